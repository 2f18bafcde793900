// What chat allows, whoever asks and on whichever process: the events' payloads, the refusals, the chat modes, bans
// and timeouts, and how much say each user has in a channel's chat (viewer, moderator, owner, admin).
import { and, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { chatBan, chatMessage, chatModerator, chatSettings, follow, user, type Db, type Role } from '../../shared/db/index.ts';
import { activeSubscription } from '../entitlements.ts';

import { MAX_MESSAGE_CHARS } from '../../shared/rules.ts';
import type { ChatModes, ChatRefusal } from '../../shared/socket-events.ts';

// the longest message is a rule the web's chat panel reads too
export { MAX_MESSAGE_CHARS };
export type { ChatMessage, ChatModes, ChatRefusal, ModerationEvent } from '../../shared/socket-events.ts';
export const NO_MODES: ChatModes = { slowSeconds: 0, minAccountAgeMinutes: 0, followersOnlyMinutes: null, subscribersOnly: false };
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
  })
  .refine((m) => Object.keys(m).length > 1);
export const deleteSchema = z.object({ channel: z.string().trim().min(1).max(64), id: z.uuid() });
export const targetSchema = z.object({ channel: z.string().trim().min(1).max(64), userId: z.string().min(1).max(64), reason: z.string().max(200).optional() });
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
    .select({ slowSeconds: chatSettings.slowSeconds, minAccountAgeMinutes: chatSettings.minAccountAgeMinutes, followersOnlyMinutes: chatSettings.followersOnlyMinutes, subscribersOnly: chatSettings.subscribersOnly })
    .from(chatSettings)
    .where(eq(chatSettings.channelId, channelId))
    .limit(1);
  return row ?? NO_MODES;
}

/** Slow mode and the minimum account age, for everyone below moderator. */
export async function checkModes(db: Db, channelId: string, userId: string) {
  const { slowSeconds, minAccountAgeMinutes, followersOnlyMinutes, subscribersOnly } = await chatModes(db, channelId);
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
