// What a subscription entitles to, checked in one place: subscriber-only chat, VoDs and live streams (WHEP and the
// recording's HLS). A subscription counts while starts_at <= now < ends_at (no end: open-ended) and it is not
// canceled, so expiry needs no job: the next check simply finds none. The channel's owner and admins are always in.
import { and, eq, gt, isNull, lte, or } from 'drizzle-orm';
import { channel, subscription, type Db, type Role } from '../shared/db/index.ts';
import type { Deps } from './context.ts';
import { forbidden, notFound, unauthorized } from '../shared/errors.ts';

/** The user's subscription to the channel that counts now, if any. */
export async function activeSubscription(db: Db, userId: string, channelId: string) {
  const now = new Date();
  const [row] = await db
    .select({ id: subscription.id, tierId: subscription.tierId, endsAt: subscription.endsAt })
    .from(subscription)
    .where(
      and(
        eq(subscription.userId, userId),
        eq(subscription.channelId, channelId),
        isNull(subscription.canceledAt),
        lte(subscription.startsAt, now),
        or(isNull(subscription.endsAt), gt(subscription.endsAt, now)),
      ),
    )
    .limit(1);
  return row ?? null;
}

export type Viewer = { id: string; role: Role } | null;

/** Whether `viewer` may see a channel's subscriber-only content. */
export async function entitled(db: Db, viewer: Viewer, ch: { id: string; ownerId: string }): Promise<boolean> {
  if (!viewer) return false;
  if (viewer.role === 'admin' || viewer.id === ch.ownerId) return true;
  return (await activeSubscription(db, viewer.id, ch.id)) !== null;
}

/** Throws 401 (anonymous) or 403 (signed in, not subscribed) unless `viewer` is entitled. */
export async function requireEntitled(db: Db, viewer: Viewer, ch: { id: string; ownerId: string; slug: string }, what: string) {
  if (await entitled(db, viewer, ch)) return;
  if (!viewer) throw unauthorized(`${what} is for subscribers of "${ch.slug}": sign in first.`);
  throw forbidden(`${what} is for subscribers of "${ch.slug}".`);
}

/**
 * For the SFU's WHEP route: a subscriber-only live stream admits the entitled (session cookie), nobody else. The
 * channel is named by its id — the room's identity — never by a slug: a slug changes with a rename (and can then be
 * taken by another channel) while the SFU's room lives on under the name it went live with. A channel that is gone
 * admits nobody.
 */
export async function admitViewer(deps: Pick<Deps, 'database' | 'auth'>, request: Request, channelId: string): Promise<void> {
  const { db } = deps.database;
  const [ch] = await db.select({ id: channel.id, ownerId: channel.ownerId, slug: channel.slug, only: channel.subscribersOnlyLive }).from(channel).where(eq(channel.id, channelId)).limit(1);
  if (!ch) throw notFound('That channel');
  if (!ch.only) return;
  await requireEntitled(db, await viewerOf(deps, request.headers), ch, 'This live stream');
}

/** The signed-in user of a request outside /api (which loads it for every request), read only when needed. */
export async function viewerOf(deps: Pick<Deps, 'auth'>, headers: Headers): Promise<Viewer> {
  const found = headers.get('cookie') ? await deps.auth.api.getSession({ headers }) : null;
  return found ? { id: found.user.id, role: (found.user.role ?? 'user') as Role } : null;
}
