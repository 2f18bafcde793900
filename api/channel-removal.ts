// Removing a channel with everything that hangs off it: the rows go by cascade (stream keys, recordings, chat, follows,
// tiers, webhooks), the files (avatar, recordings) here, and the bus tells the media plane and live pages.
import { eq } from 'drizzle-orm';
import { channel, vod } from '../shared/db/index.ts';
import type { Deps } from './context.ts';

type Removable = { id: string; slug: string; avatarKey: string | null };

/** Deletes one channel, its recordings' files and its avatar, then publishes channel.deleted. */
export async function removeChannel(deps: Pick<Deps, 'database' | 'store' | 'bus' | 'reads'>, ch: Removable): Promise<void> {
  const { database, store, bus, reads } = deps;
  const recordings = await database.db.select({ prefix: vod.storagePrefix }).from(vod).where(eq(vod.channelId, ch.id));
  await database.db.delete(channel).where(eq(channel.id, ch.id));
  // gone for the next read here at once; other processes hear channel.deleted
  await Promise.all([reads.invalidateChannel(ch.slug), reads.invalidateVods(ch.id), reads.invalidateChat(ch.slug)]);
  if (ch.avatarKey) await store.delete(ch.avatarKey);
  for (const r of recordings) await store.deletePrefix(r.prefix);
  await bus.publish('channel.deleted', { channelId: ch.id, slug: ch.slug });
}

/** Deletes every channel `userId` owns (before their account goes: the cascade would leave the files behind). */
export async function removeChannelsOf(deps: Pick<Deps, 'database' | 'store' | 'bus' | 'reads'>, userId: string): Promise<void> {
  const owned = await deps.database.db.select({ id: channel.id, slug: channel.slug, avatarKey: channel.avatarKey }).from(channel).where(eq(channel.ownerId, userId));
  for (const ch of owned) await removeChannel(deps, ch);
}
