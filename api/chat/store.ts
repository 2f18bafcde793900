// What chat keeps in the database: messages (stored before anyone sees them), a channel's history, and the channel
// lookup every join makes, shared by the joins of a moment.
import { and, desc, eq, isNull } from 'drizzle-orm';
import { asc } from 'drizzle-orm';
import { channel, channelEmote, chatMessage, chatSettings, liveSession, user, type Db } from '../../shared/db/index.ts';
import type { Emote } from '../../shared/emotes.ts';
import type { ChatBadge } from '../../shared/socket-events.ts';
import type { SessionUser } from '../context.ts';
import { readKeys, type PublicReads } from '../read-cache.ts';
import { NO_MODES, Refused, badgesOf, type ChatMessage, type ChatModes } from './rules.ts';

/** Messages a joining client receives. */
export const HISTORY_SIZE = 50;
/** How long a join's channel lookup (channel, modes, history) is reused by the joins after it. */
export const JOIN_CACHE_MS = 1000;

export type ChannelRef = { id: string; slug: string; ownerId: string };
/** What a join sends back about a channel, shared by every join within JOIN_CACHE_MS. */
export type ChannelView = { ch: ChannelRef; modes: ChatModes; history: ChatMessage[]; emotes: Emote[] };

/** A channel's own emotes, oldest first, each with its image's address (the id in it changes when the image does). */
export async function channelEmotes(db: Db, channelId: string, slug: string): Promise<Emote[]> {
  const rows = await db.select({ id: channelEmote.id, code: channelEmote.code }).from(channelEmote).where(eq(channelEmote.channelId, channelId)).orderBy(asc(channelEmote.createdAt), asc(channelEmote.code));
  return rows.map((r) => ({ code: r.code, url: `/api/channels/${slug}/emotes/${r.code}?v=${r.id.slice(0, 8)}` }));
}

/** A channel by slug, or a not-found refusal. */
export async function channelBySlug(db: Db, slug: string): Promise<ChannelRef> {
  const [ch] = await db.select({ id: channel.id, slug: channel.slug, ownerId: channel.ownerId }).from(channel).where(eq(channel.slug, slug)).limit(1);
  if (!ch) throw new Refused({ code: 'not-found', message: `The channel "${slug}" was not found.` });
  return ch;
}

export type LiveRef = { id: string; startedAt: Date };

/** The channel's live session running now, if any (a message sent during it is placed in its recording). */
export async function liveSessionOf(db: Db, channelId: string): Promise<LiveRef | null> {
  const [live] = await db
    .select({ id: liveSession.id, startedAt: liveSession.startedAt })
    .from(liveSession)
    .where(and(eq(liveSession.channelId, channelId), isNull(liveSession.endedAt)))
    .limit(1);
  return live ?? null;
}

/** Stores a message (in the live session it was sent in, if any) before anyone sees it or it is acknowledged. */
export async function storeMessage(db: Db, ch: { id: string; slug: string }, me: SessionUser, badges: ChatBadge[], text: string, live: LiveRef | null): Promise<ChatMessage & { liveSessionId: string | null }> {
  const { id: channelId, slug } = ch;
  const sentAt = new Date();
  const row = {
    id: crypto.randomUUID(),
    channelId,
    liveSessionId: live?.id ?? null,
    userId: me.id,
    body: text,
    offsetMs: live ? Math.max(0, sentAt.getTime() - live.startedAt.getTime()) : null,
    createdAt: sentAt,
  };
  await db.insert(chatMessage).values(row);
  return { id: row.id, channel: slug, author: { id: me.id, name: me.name, badges }, text, sentAt: sentAt.toISOString(), offsetMs: row.offsetMs, liveSessionId: row.liveSessionId };
}

/** A channel's last HISTORY_SIZE messages, oldest first, without the deleted ones. */
export async function history(db: Db, ch: ChannelRef): Promise<ChatMessage[]> {
  const { id: channelId, slug } = ch;
  const rows = await db
    .select({ id: chatMessage.id, userId: chatMessage.userId, name: user.name, body: chatMessage.body, createdAt: chatMessage.createdAt, offsetMs: chatMessage.offsetMs })
    .from(chatMessage)
    .innerJoin(user, eq(user.id, chatMessage.userId))
    .where(and(eq(chatMessage.channelId, channelId), isNull(chatMessage.deletedAt)))
    .orderBy(desc(chatMessage.createdAt), desc(chatMessage.id))
    .limit(HISTORY_SIZE);
  const badges = await badgesOf(db, ch, rows.map((r) => r.userId));
  return rows.reverse().map((r) => ({ id: r.id, channel: slug, author: { id: r.userId, name: r.name, badges: badges.get(r.userId) ?? [] }, text: r.body, sentAt: r.createdAt.toISOString(), offsetMs: r.offsetMs }));
}

/**
 * Recent joins' channel lookups by slug (a null: no such channel), kept in the read cache (api/read-cache.ts: shared
 * by every API process with Redis) for JOIN_CACHE_MS. Only that long, though every send, delete and mode change
 * invalidates it (and other processes' sends through chat.message): the badges in the history also change with no
 * write to invalidate on (a subscription that runs out), and emotes, moderators and names change elsewhere.
 */
export class ChannelViews {
  constructor(
    private readonly db: Db,
    private readonly reads: PublicReads,
  ) {}

  /**
   * A channel as a join shows it (the channel, its modes, its recent history), looked up once and shared by every
   * join of it within JOIN_CACHE_MS — a crowd arriving at once (a raid, a reconnect storm) costs one lookup; an
   * unknown slug is remembered as such too; a failed lookup is not remembered.
   */
  get(slug: string): Promise<ChannelView | null> {
    return this.reads.get(readKeys.chat(slug), async () => ({ value: await this.lookup(slug), ttlMs: JOIN_CACHE_MS }));
  }

  private async lookup(slug: string): Promise<ChannelView | null> {
    // the channel and its modes in one query, then its history
    const [row] = await this.db
      .select({
        id: channel.id,
        slug: channel.slug,
        ownerId: channel.ownerId,
        slowSeconds: chatSettings.slowSeconds,
        minAccountAgeMinutes: chatSettings.minAccountAgeMinutes,
        followersOnlyMinutes: chatSettings.followersOnlyMinutes,
        subscribersOnly: chatSettings.subscribersOnly,
        emoteOnly: chatSettings.emoteOnly,
      })
      .from(channel)
      .leftJoin(chatSettings, eq(chatSettings.channelId, channel.id))
      .where(eq(channel.slug, slug))
      .limit(1);
    if (!row) return null;
    const { id, ownerId, slowSeconds, minAccountAgeMinutes, followersOnlyMinutes, subscribersOnly, emoteOnly } = row;
    const modes: ChatModes = slowSeconds === null ? NO_MODES : { slowSeconds, minAccountAgeMinutes: minAccountAgeMinutes ?? 0, followersOnlyMinutes, subscribersOnly: subscribersOnly ?? false, emoteOnly: emoteOnly ?? false };
    const ch = { id, slug: row.slug, ownerId };
    const [past, emotes] = await Promise.all([history(this.db, ch), channelEmotes(this.db, id, row.slug)]);
    return { ch, modes, history: past, emotes };
  }

  /** Forgets a channel's lookup (after a send, a delete, a change of modes), so the next join sees the change. */
  delete(slug: string): Promise<void> {
    return this.reads.invalidateChat(slug);
  }
}
