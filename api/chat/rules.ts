// What chat allows, whoever asks and on whichever process: the events' payloads, the refusals, the chat modes, bans
// and timeouts, and how much say each user has in a channel's chat (viewer, moderator, owner, admin).
import { alias } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { and, desc, eq, gt, inArray, isNull, lte, or } from 'drizzle-orm';
import { channelEmote, chatBan, chatMessage, chatModerator, chatSettings, follow, subscription, user, type Db, type Role } from '../../shared/db/index.ts';
import { BUILTIN_CODES, onlyEmotes } from '../../shared/emotes.ts';
import { activeSubscription } from '../entitlements.ts';

import { MAX_MESSAGE_CHARS } from '../../shared/rules.ts';
import type { ChatBadge, ChatBanView, ChatModes, ChatRefusal, ChatUserRef } from '../../shared/socket-events.ts';

// the longest message is a rule the web's chat panel reads too
export { MAX_MESSAGE_CHARS };
export type { ChatMessage, ChatModes, ChatRefusal, ModerationEvent } from '../../shared/socket-events.ts';
export const NO_MODES: ChatModes = { slowSeconds: 0, minAccountAgeMinutes: 0, followersOnlyMinutes: null, subscribersOnly: false, emoteOnly: false };
/** Longest timeout: two weeks, as on Twitch. */
export const MAX_TIMEOUT_SECONDS = 14 * 24 * 3600;

export const slugSchema = z.object({ channel: z.string().trim().min(1).max(64) });
export const sendSchema = z.object({ channel: z.string().trim().min(1).max(64), text: z.string() });
export const modesSchema = z
  .object({
    channel: z.string().trim().min(1).max(64),
    slowSeconds: z.number().int().min(0).max(3600).optional(),
    minAccountAgeMinutes: z.number().int().min(0).max(60 * 24 * 90).optional(),
    followersOnlyMinutes: z.number().int().min(0).max(60 * 24 * 90).nullable().optional(),
    subscribersOnly: z.boolean().optional(),
    emoteOnly: z.boolean().optional(),
  })
  .refine((m) => Object.keys(m).length > 1);
export const deleteSchema = z.object({ channel: z.string().trim().min(1).max(64), id: z.uuid() });
export const targetSchema = z.object({ channel: z.string().trim().min(1).max(64), userId: z.string().min(1).max(64), reason: z.string().max(200).optional() });
export const nameSchema = z.object({ channel: z.string().trim().min(1).max(64), name: z.string().trim().min(1).max(100) });
export const timeoutSchema = targetSchema.extend({ seconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS) });

/** A refusal on its way to the socket that asked (the one event handler turns it into `refused` and the ack). */
export class Refused extends Error {
  constructor(readonly refusal: ChatRefusal) {
    super(refusal.message);
  }
}

/** A user's say in a channel's chat, lowest first; RANK names each level. */
export const LEVEL = { viewer: 0, moderator: 1, owner: 2, admin: 3 } as const;
export const RANK = ['viewer', 'moderator', 'owner', 'admin'] as const;

/** How much say a user has in a channel's chat. */
export async function levelOf(db: Db, ch: { id: string; ownerId: string }, userId: string, role?: Role): Promise<number> {
  if (role === 'admin') return LEVEL.admin;
  if (ch.ownerId === userId) return LEVEL.owner;
  if (role === undefined) {
    const [u] = await db.select({ role: user.role }).from(user).where(eq(user.id, userId)).limit(1);
    if (u?.role === 'admin') return LEVEL.admin;
  }
  const [m] = await db
    .select({ userId: chatModerator.userId })
    .from(chatModerator)
    .where(and(eq(chatModerator.channelId, ch.id), eq(chatModerator.userId, userId)))
    .limit(1);
  return m ? LEVEL.moderator : LEVEL.viewer;
}

/** A channel's chat modes (none set: all off). */
export async function chatModes(db: Db, channelId: string): Promise<ChatModes> {
  const [row] = await db
    .select({ slowSeconds: chatSettings.slowSeconds, minAccountAgeMinutes: chatSettings.minAccountAgeMinutes, followersOnlyMinutes: chatSettings.followersOnlyMinutes, subscribersOnly: chatSettings.subscribersOnly, emoteOnly: chatSettings.emoteOnly })
    .from(chatSettings)
    .where(eq(chatSettings.channelId, channelId))
    .limit(1);
  return row ?? NO_MODES;
}

/** Slow mode and the minimum account age, for everyone below moderator. */
export async function checkModes(db: Db, channelId: string, userId: string, text: string) {
  const { slowSeconds, minAccountAgeMinutes, followersOnlyMinutes, subscribersOnly, emoteOnly } = await chatModes(db, channelId);
  if (emoteOnly && !onlyEmotes(text, await emoteCodes(db, channelId))) {
    throw new Refused({ code: 'emote-only', message: 'This chat is in emote-only mode: send emotes only (pick them from the emote menu).' });
  }
  if (subscribersOnly && !(await activeSubscription(db, userId, channelId))) {
    throw new Refused({ code: 'subscribers-only', message: 'This chat is in subscribers-only mode.' });
  }
  if (followersOnlyMinutes !== null) {
    const [f] = await db.select({ since: follow.createdAt }).from(follow).where(and(eq(follow.channelId, channelId), eq(follow.userId, userId))).limit(1);
    if (!f) throw new Refused({ code: 'followers-only', message: 'This chat is in followers-only mode: follow the channel to chat.' });
    const left = f.since.getTime() + followersOnlyMinutes * 60_000 - Date.now();
    if (left > 0) throw new Refused({ code: 'followers-only', message: `This chat is for those who have followed for ${followersOnlyMinutes} minutes.`, retryAfterMs: left });
  }
  if (minAccountAgeMinutes > 0) {
    const [u] = await db.select({ createdAt: user.createdAt }).from(user).where(eq(user.id, userId)).limit(1);
    const left = (u?.createdAt.getTime() ?? Date.now()) + minAccountAgeMinutes * 60_000 - Date.now();
    if (left > 0) throw new Refused({ code: 'account-too-new', message: `This chat is open to accounts older than ${minAccountAgeMinutes} minutes.`, retryAfterMs: left });
  }
  if (slowSeconds > 0) {
    const [last] = await db
      .select({ createdAt: chatMessage.createdAt })
      .from(chatMessage)
      .where(and(eq(chatMessage.channelId, channelId), eq(chatMessage.userId, userId)))
      .orderBy(desc(chatMessage.createdAt))
      .limit(1);
    const left = last ? last.createdAt.getTime() + slowSeconds * 1000 - Date.now() : 0;
    if (left > 0) throw new Refused({ code: 'slow-mode', message: `Slow mode: one message every ${slowSeconds} seconds.`, retryAfterMs: left });
  }
}

/** A ban, or a timeout still running, refuses. */
export async function checkBan(db: Db, channelId: string, userId: string) {
  const [ban] = await db
    .select({ until: chatBan.until })
    .from(chatBan)
    .where(and(eq(chatBan.channelId, channelId), eq(chatBan.userId, userId)))
    .limit(1);
  if (!ban) return;
  if (!ban.until) throw new Refused({ code: 'banned', message: 'You are banned from this chat.' });
  const left = ban.until.getTime() - Date.now();
  if (left > 0) throw new Refused({ code: 'timed-out', message: `You are timed out for ${Math.ceil(left / 1000)} more seconds.`, retryAfterMs: left });
}

/** The codes a message of the channel may use as emotes: the built-in set and the channel's own. */
export async function emoteCodes(db: Db, channelId: string): Promise<Set<string>> {
  const rows = await db.select({ code: channelEmote.code }).from(channelEmote).where(eq(channelEmote.channelId, channelId));
  return new Set([...BUILTIN_CODES, ...rows.map((r) => r.code)]);
}

/**
 * The badges of some users in a channel's chat (owner, moderator, subscriber), in two queries whatever their number:
 * what a message carries, so that no client looks anyone up.
 */
export async function badgesOf(db: Db, ch: { id: string; ownerId: string }, userIds: string[]): Promise<Map<string, ChatBadge[]>> {
  const ids = [...new Set(userIds)];
  const out = new Map<string, ChatBadge[]>(ids.map((id) => [id, id === ch.ownerId ? ['owner'] : []]));
  if (!ids.length) return out;
  const now = new Date();
  const [mods, subs] = await Promise.all([
    db.select({ userId: chatModerator.userId }).from(chatModerator).where(and(eq(chatModerator.channelId, ch.id), inArray(chatModerator.userId, ids))),
    db
      .selectDistinct({ userId: subscription.userId })
      .from(subscription)
      .where(and(eq(subscription.channelId, ch.id), inArray(subscription.userId, ids), isNull(subscription.canceledAt), lte(subscription.startsAt, now), or(isNull(subscription.endsAt), gt(subscription.endsAt, now)))),
  ]);
  for (const m of mods) if (m.userId !== ch.ownerId) out.get(m.userId)!.push('moderator');
  for (const s of subs) out.get(s.userId)!.push('subscriber');
  return out;
}

/** Bans shown at most in the banned list (newest first). */
export const MAX_LISTED_BANS = 200;

/** A channel's bans and running timeouts, newest first, with who did it (the banned list). */
export async function bansOf(db: Db, channelId: string): Promise<ChatBanView[]> {
  const by = alias(user, 'by_user');
  const rows = await db
    .select({ id: user.id, name: user.name, byId: by.id, byName: by.name, until: chatBan.until, reason: chatBan.reason, since: chatBan.createdAt })
    .from(chatBan)
    .innerJoin(user, eq(user.id, chatBan.userId))
    .leftJoin(by, eq(by.id, chatBan.byUserId))
    .where(and(eq(chatBan.channelId, channelId), or(isNull(chatBan.until), gt(chatBan.until, new Date()))))
    .orderBy(desc(chatBan.createdAt))
    .limit(MAX_LISTED_BANS);
  return rows.map((r) => ({
    user: { id: r.id, name: r.name },
    by: r.byId ? { id: r.byId, name: r.byName ?? '' } : null,
    until: r.until?.toISOString() ?? null,
    reason: r.reason,
    since: r.since.toISOString(),
  }));
}

/** A channel's moderators, by name. */
export async function moderatorsOf(db: Db, channelId: string): Promise<ChatUserRef[]> {
  return db.select({ id: user.id, name: user.name }).from(chatModerator).innerJoin(user, eq(user.id, chatModerator.userId)).where(eq(chatModerator.channelId, channelId)).orderBy(user.name);
}
