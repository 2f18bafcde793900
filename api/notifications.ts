// Go-live notifications. When a channel goes live the API enqueues one job (keyed by the broadcast, so the API
// processes that all hear the bus event enqueue it once); the job walks the channel's followers in batches, puts an
// entry in each one's inbox and sends it at once to those who are online (their Socket.IO user room). Going live
// never waits for any of it, and a fan-out interrupted by a crash resumes from its last batch (the inbox holds one
// entry per follower per broadcast, so a repeated batch adds nothing).
import { and, eq, gt, sql } from 'drizzle-orm';
import { channel, follow, liveSession, notification } from '../shared/db/index.ts';
import type { UserPush } from './user-push.ts';
import type { Deps } from './context.ts';
import type { JobPayloads, Jobs } from '../shared/jobs.ts';
import type { NotificationView } from '../shared/socket-events.ts';

/** Followers handled per batch of a fan-out. */
export const FANOUT_BATCH = 1000;

// what the inbox lists and the user's room hears: one type for both (the Socket.IO contract)
export type { NotificationView };

export function notifyFollowers(deps: Deps, jobs: Jobs, push: UserPush): () => void {
  const { db } = deps.database;
  jobs.define('notify.live', {
    maxAttempts: 10,
    backoffMs: 1000,
    run: async (j) => {
      const p = j.payload;
      const batch = await db
        .select({ userId: follow.userId })
        .from(follow)
        .where(and(eq(follow.channelId, p.channelId), j.cursor ? gt(follow.userId, j.cursor) : undefined))
        .orderBy(follow.userId)
        .limit(FANOUT_BATCH);
      if (batch.length) {
        // the broadcast's own title when it has one (jobs enqueued before it existed carry none)
        const data = { slug: p.slug, title: p.title, ...(p.broadcast ? { broadcast: p.broadcast } : {}) };
        const added = await db
          .insert(notification)
          .values(batch.map((f) => ({ userId: f.userId, kind: 'channel.live' as const, channelId: p.channelId, liveSessionId: p.sessionId, data })))
          .onConflictDoNothing()
          .returning({ id: notification.id, userId: notification.userId, createdAt: notification.createdAt });
        const byUser = new Map(added.map((n) => [n.userId, n]));
        push.toUsers([...byUser.keys()], 'notification', (userId): NotificationView => {
          const n = byUser.get(userId)!;
          return { id: n.id, kind: 'channel.live', channel: data, liveSessionId: p.sessionId, createdAt: n.createdAt.toISOString(), read: false };
        });
      }
      return batch.length < FANOUT_BATCH ? { done: true } : { cursor: batch.at(-1)!.userId };
    },
  });
  // what another process put in an inbox (the transcoder's "your video is ready"): to the user's open tabs
  const offNotified = deps.bus.subscribe('user.notified', (e) => push.toUsers([e.userId], 'notification', () => e.notification));
  const offLive = deps.bus.subscribe('channel.live', (e) => {
    void (async () => {
      const [ch] = await db
        .select({ title: channel.title, broadcast: liveSession.title })
        .from(channel)
        .leftJoin(liveSession, eq(liveSession.id, e.sessionId))
        .where(eq(channel.id, e.channelId))
        .limit(1);
      if (!ch) return;
      const payload: JobPayloads['notify.live'] = { channelId: e.channelId, slug: e.slug, title: ch.title, broadcast: ch.broadcast ?? '', sessionId: e.sessionId, startedAt: e.startedAt };
      await jobs.enqueue('notify.live', `notify.live:${e.sessionId}`, payload);
    })().catch((err) => deps.log.error({ err, sessionId: e.sessionId }, 'could not enqueue the go-live notifications'));
  });
  return () => {
    offNotified();
    offLive();
  };
}

/** A user's unread count, for the inbox badge. */
export async function unreadCount(deps: Deps, userId: string): Promise<number> {
  const [row] = await deps.database.db
    .select({ n: sql<number>`count(*)::int` })
    .from(notification)
    .where(and(eq(notification.userId, userId), sql`${notification.readAt} is null`));
  return row?.n ?? 0;
}

