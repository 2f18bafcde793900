// Chat over Socket.IO on the API's own HTTP server (path /socket.io, behind Caddy with the rest of the origin).
// A room per channel; anyone may read, signed-in users send. Identity comes from the better-auth session cookie of
// the handshake — never from the client. Every message is stored before it is acknowledged or sent to anyone, so an
// acknowledged message is never lost; the stored id comes back in the acknowledgement.
// Messages reach a room as `messages` (an array): a quiet room's message goes out at once, a busy room's are sent
// together at most every CHAT_BATCH_MS — one WebSocket frame per reader per batch instead of one per message, which
// is what lets one process carry thousands of readers at tens of messages a second.
import type { Server as HttpServer } from 'node:http';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { createRequire } from 'node:module';
import type * as Limiters from 'rate-limiter-flexible';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import { channel, chatBan, chatMessage, chatModerator, chatSettings, follow, liveSession, user, type Role } from '../shared/db/index.ts';
import { activeSubscription } from './entitlements.ts';
import type { Deps, SessionUser } from './context.ts';

// rate-limiter-flexible's index loads every store it supports (Mongo, MySQL, DynamoDB, cluster, ...: ~8 MB of
// resident memory at start); chat uses three classes, loaded by themselves
const load = createRequire(import.meta.url);
const RateLimiterMemory: typeof Limiters.RateLimiterMemory = load('rate-limiter-flexible/lib/RateLimiterMemory.js');
const RateLimiterRes: typeof Limiters.RateLimiterRes = load('rate-limiter-flexible/lib/RateLimiterRes.js');
const redisLimiter = (): typeof Limiters.RateLimiterRedis => load('rate-limiter-flexible/lib/RateLimiterRedis.js');

/** Longest message, in characters (Twitch's limit). */
export const MAX_MESSAGE_CHARS = 500;
/** Messages a joining client receives. */
export const HISTORY_SIZE = 50;

export type ChatMessage = {
  id: string;
  channel: string;
  author: { id: string; name: string };
  text: string;
  sentAt: string;
  /** ms since the start of the live session it was sent in (null when the channel was offline) */
  offsetMs: number | null;
};

export type ChatRefusal = {
  code:
    | 'unauthorized'
    | 'forbidden'
    | 'not-found'
    | 'invalid'
    | 'rate-limited'
    | 'not-joined'
    | 'banned'
    | 'timed-out'
    | 'slow-mode'
    | 'account-too-new'
    | 'followers-only'
    | 'subscribers-only';
  message: string;
  retryAfterMs?: number;
};
/** What moderators see happen (and the affected user learns); sent to the channel's room. */
export type ModerationEvent = { channel: string; action: 'timeout' | 'ban' | 'unban' | 'mod' | 'unmod'; userId: string; until: string | null; by: string };
/** A channel's chat modes (0: off). Moderators, the owner and admins are exempt from them. */
/** followersOnlyMinutes: null off, else how long one must have followed (0: any follower). */
export type ChatModes = { slowSeconds: number; minAccountAgeMinutes: number; followersOnlyMinutes: number | null; subscribersOnly: boolean };
const NO_MODES: ChatModes = { slowSeconds: 0, minAccountAgeMinutes: 0, followersOnlyMinutes: null, subscribersOnly: false };
/** Longest timeout: two weeks, as on Twitch. */
export const MAX_TIMEOUT_SECONDS = 14 * 24 * 3600;
type Ack<T> = (reply: ({ ok: true } & T) | { ok: false; error: ChatRefusal }) => void;

const slugSchema = z.object({ channel: z.string().trim().min(1).max(64) });
const sendSchema = z.object({ channel: z.string().trim().min(1).max(64), text: z.string() });
const modesSchema = z
  .object({
    channel: z.string().trim().min(1).max(64),
    slowSeconds: z.number().int().min(0).max(3600).optional(),
    minAccountAgeMinutes: z.number().int().min(0).max(60 * 24 * 90).optional(),
    followersOnlyMinutes: z.number().int().min(0).max(60 * 24 * 90).nullable().optional(),
    subscribersOnly: z.boolean().optional(),
  })
  .refine((m) => Object.keys(m).length > 1);
const deleteSchema = z.object({ channel: z.string().trim().min(1).max(64), id: z.uuid() });
const targetSchema = z.object({ channel: z.string().trim().min(1).max(64), userId: z.string().min(1).max(64), reason: z.string().max(200).optional() });
const timeoutSchema = targetSchema.extend({ seconds: z.number().int().min(1).max(MAX_TIMEOUT_SECONDS) });

class Refused extends Error {
  constructor(readonly refusal: ChatRefusal) {
    super(refusal.message);
  }
}

const roomOf = (channelId: string) => `chat:${channelId}`;
const userRoom = (userId: string) => `user:${userId}`;
const LEVEL = { viewer: 0, moderator: 1, owner: 2, admin: 3 } as const;
const RANK = ['viewer', 'moderator', 'owner', 'admin'] as const;

export class Chat {
  readonly io: Server;
  private readonly perUser: Limiters.RateLimiterAbstract;
  private readonly perIp: Limiters.RateLimiterAbstract;
  /** Rooms that were sent a batch less than batchMs ago, with what waits for their next one. */
  private readonly waiting = new Map<string, { messages: ChatMessage[]; timer: NodeJS.Timeout }>();

  /**
   * With REDIS_URL, rooms span every API process through the Socket.IO Redis adapter and the rate limits are kept in
   * Redis (one budget per user whichever process they reach); without it, in this process.
   */
  static async create(server: HttpServer, deps: Deps): Promise<Chat> {
    const { redisUrl, redisPrefix } = deps.config;
    if (!redisUrl) return new Chat(server, deps);
    const [{ Redis }, { createAdapter }] = await Promise.all([import('ioredis'), import('@socket.io/redis-adapter')]);
    const pub = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    return new Chat(server, deps, { pub, sub, adapter: createAdapter(pub, sub, { key: `${redisPrefix}socket.io` }) });
  }

  private constructor(
    server: HttpServer,
    private readonly deps: Deps,
    private readonly redis?: { pub: import('ioredis').Redis; sub: import('ioredis').Redis; adapter: ReturnType<typeof import('@socket.io/redis-adapter').createAdapter> },
  ) {
    const { config } = deps;
    const limiter = (name: string, limit: { points: number; duration: number }) =>
      redis
        ? new (redisLimiter())({ storeClient: redis.pub, keyPrefix: `${config.redisPrefix}chat-limit:${name}`, ...limit })
        : new RateLimiterMemory({ keyPrefix: `chat-limit:${name}`, ...limit });
    // per user, and per connecting address (several users behind one NAT share it): CHAT_*_MESSAGES per window
    const { userMessages, addressMessages, windowSeconds } = config.chat;
    this.perUser = limiter('user', { points: userMessages, duration: windowSeconds });
    this.perIp = limiter('ip', { points: addressMessages, duration: windowSeconds });
    const allowed = new Set([new URL(config.publicUrl).origin, ...config.trustedOrigins.map((o) => new URL(o).origin)]);
    this.io = new Server(server, {
      path: '/socket.io',
      serveClient: false,
      maxHttpBufferSize: 16 * 1024,
      ...(redis ? { adapter: redis.adapter } : {}),
      // The session cookie rides on the handshake: only pages of Glint's own origin (or a trusted one) may use it,
      // or any site could chat as its visitors (cross-site WebSocket hijacking). Clients without an Origin header
      // (not browsers) are allowed; they carry no one else's cookie.
      allowRequest: (req, callback) => {
        const origin = req.headers.origin;
        if (!origin) return callback(null, true);
        const host = req.headers.host;
        callback(null, allowed.has(origin) || (!!host && (origin === `http://${host}` || origin === `https://${host}`)));
      },
    });
    this.io.use((socket, next) => {
      this.identify(socket).then(
        (u) => {
          socket.data.user = u;
          next();
        },
        (err) => next(err as Error),
      );
    });
    this.io.on('connection', (socket) => this.connected(socket));
  }

  private async identify(socket: Socket): Promise<SessionUser | null> {
    const cookie = socket.handshake.headers.cookie;
    if (!cookie) return null;
    const found = await this.deps.auth.api.getSession({ headers: new Headers({ cookie }) });
    if (!found) return null;
    return { id: found.user.id, name: found.user.name, email: found.user.email, role: (found.user.role ?? 'user') as Role };
  }

  private connected(socket: Socket) {
    // a signed-in user's own room: notifications reach every tab and device they have open, on any API process
    const me = socket.data.user as SessionUser | null;
    if (me) void socket.join(userRoom(me.id));
    const joined = new Map<string, { id: string; ownerId: string }>(); // by slug
    const handle =
      <T>(fn: (payload: unknown) => Promise<T>) =>
      (payload: unknown, ack?: Ack<T>) => {
        const reply = typeof ack === 'function' ? ack : () => undefined;
        fn(payload).then(
          (value) => reply({ ok: true, ...value }),
          (err) => {
            const refusal: ChatRefusal =
              err instanceof Refused
                ? err.refusal
                : err instanceof z.ZodError
                  ? { code: 'invalid', message: 'Send { channel, text }.' }
                  : { code: 'invalid', message: 'The message could not be handled.' };
            if (!(err instanceof Refused) && !(err instanceof z.ZodError)) this.deps.log.error({ err }, 'chat handler failed');
            socket.emit('refused', refusal);
            reply({ ok: false, error: refusal });
          },
        );
      };

    socket.on(
      'join',
      handle(async (payload) => {
        const { channel: slug } = slugSchema.parse(payload);
        const ch = await this.channelBySlug(slug);
        await socket.join(roomOf(ch.id));
        joined.set(ch.slug, ch);
        const me = socket.data.user as SessionUser | null;
        // what the client may offer this user (the server checks every action again)
        const you = me ? RANK[await this.levelOf(ch, me.id, me.role)] : null;
        return { channel: ch.slug, you, modes: await this.modes(ch.id), history: await this.history(ch.id, ch.slug) };
      }),
    );
    socket.on(
      'leave',
      handle(async (payload) => {
        const { channel: slug } = slugSchema.parse(payload);
        const ch = joined.get(slug);
        if (ch) await socket.leave(roomOf(ch.id));
        joined.delete(slug);
        return {};
      }),
    );
    socket.on(
      'send',
      handle(async (payload) => {
        const me = socket.data.user as SessionUser | null;
        if (!me) throw new Refused({ code: 'unauthorized', message: 'Sign in to chat.' });
        const { channel: slug, text: raw } = sendSchema.parse(payload);
        const ch = joined.get(slug);
        if (!ch) throw new Refused({ code: 'not-joined', message: `Join "${slug}" before sending to it.` });
        const channelId = ch.id;
        const text = raw.trim();
        if (!text) throw new Refused({ code: 'invalid', message: 'The message is empty.' });
        if ([...text].length > MAX_MESSAGE_CHARS) throw new Refused({ code: 'invalid', message: `Messages are at most ${MAX_MESSAGE_CHARS} characters.` });
        await this.checkBan(channelId, me.id);
        if ((await this.levelOf(ch, me.id, me.role)) < LEVEL.moderator) await this.checkModes(channelId, me.id);
        await this.limit(me.id, socket.handshake.address);
        const { liveSessionId, ...message } = await this.store(channelId, slug, me, text);
        this.deliver(roomOf(channelId), message);
        void this.deps.bus.publish('chat.message', { channelId, messageId: message.id, userId: me.id, liveSessionId }).catch(() => undefined);
        return { message };
      }),
    );

    // --- moderation: owner, moderators and admins; every rule is checked here, on the server ---
    socket.on(
      'modes',
      handle(async (payload) => {
        const p = modesSchema.parse(payload);
        const { ch, me } = await this.moderator(socket, p.channel);
        const set = {
          ...(p.slowSeconds !== undefined ? { slowSeconds: p.slowSeconds } : {}),
          ...(p.minAccountAgeMinutes !== undefined ? { minAccountAgeMinutes: p.minAccountAgeMinutes } : {}),
          ...(p.followersOnlyMinutes !== undefined ? { followersOnlyMinutes: p.followersOnlyMinutes } : {}),
          ...(p.subscribersOnly !== undefined ? { subscribersOnly: p.subscribersOnly } : {}),
          updatedBy: me.id,
        };
        await this.deps.database.db.insert(chatSettings).values({ channelId: ch.id, ...set }).onConflictDoUpdate({ target: chatSettings.channelId, set });
        const modes = await this.modes(ch.id);
        this.io.to(roomOf(ch.id)).emit('modes', { channel: ch.slug, ...modes, by: me.id });
        return { modes };
      }),
    );
    socket.on(
      'delete',
      handle(async (payload) => {
        const { channel: slug, id } = deleteSchema.parse(payload);
        const { ch, me } = await this.moderator(socket, slug);
        const done = await this.deps.database.db
          .update(chatMessage)
          .set({ deletedAt: new Date(), deletedBy: me.id })
          .where(and(eq(chatMessage.id, id), eq(chatMessage.channelId, ch.id), isNull(chatMessage.deletedAt)))
          .returning({ id: chatMessage.id });
        if (!done.length) throw new Refused({ code: 'not-found', message: 'That message was not found in this channel.' });
        // one still waiting for its batch is not sent at all
        const waiting = this.waiting.get(roomOf(ch.id));
        if (waiting) waiting.messages = waiting.messages.filter((m) => m.id !== id);
        this.io.to(roomOf(ch.id)).emit('deleted', { channel: ch.slug, id });
        return {};
      }),
    );
    for (const action of ['timeout', 'ban'] as const) {
      socket.on(
        action,
        handle(async (payload) => {
          const p = targetSchema.parse(payload);
          const seconds = action === 'timeout' ? timeoutSchema.parse(payload).seconds : undefined;
          const { ch, me, level } = await this.moderator(socket, p.channel);
          if ((await this.levelOf(ch, p.userId)) >= level) throw new Refused({ code: 'forbidden', message: 'You cannot do that to the channel owner, an admin or a fellow moderator.' });
          const until = seconds ? new Date(Date.now() + seconds * 1000) : null;
          const values = { channelId: ch.id, userId: p.userId, until, reason: p.reason ?? '', byUserId: me.id };
          await this.deps.database.db.insert(chatBan).values(values).onConflictDoUpdate({ target: [chatBan.channelId, chatBan.userId], set: { until, reason: values.reason, byUserId: me.id, createdAt: new Date() } });
          return { event: this.announce({ channel: ch.slug, action, userId: p.userId, until: until?.toISOString() ?? null, by: me.id }, ch.id) };
        }),
      );
    }
    socket.on(
      'unban',
      handle(async (payload) => {
        const p = targetSchema.parse(payload);
        const { ch, me } = await this.moderator(socket, p.channel);
        await this.deps.database.db.delete(chatBan).where(and(eq(chatBan.channelId, ch.id), eq(chatBan.userId, p.userId)));
        return { event: this.announce({ channel: ch.slug, action: 'unban', userId: p.userId, until: null, by: me.id }, ch.id) };
      }),
    );
    for (const action of ['mod', 'unmod'] as const) {
      socket.on(
        action,
        handle(async (payload) => {
          const p = targetSchema.parse(payload);
          const { ch, me, level } = await this.moderator(socket, p.channel);
          if (level < LEVEL.owner) throw new Refused({ code: 'forbidden', message: 'Only the channel owner (or an admin) appoints moderators.' });
          const [target] = await this.deps.database.db.select({ id: user.id }).from(user).where(eq(user.id, p.userId)).limit(1);
          if (!target) throw new Refused({ code: 'not-found', message: 'That user was not found.' });
          if (action === 'mod') await this.deps.database.db.insert(chatModerator).values({ channelId: ch.id, userId: p.userId, appointedBy: me.id }).onConflictDoNothing();
          else await this.deps.database.db.delete(chatModerator).where(and(eq(chatModerator.channelId, ch.id), eq(chatModerator.userId, p.userId)));
          return { event: this.announce({ channel: ch.slug, action, userId: p.userId, until: null, by: me.id }, ch.id) };
        }),
      );
    }
  }

  /** Sends an event to every connection of each of these users (on any API process). */
  toUsers(userIds: string[], event: string, payloadFor: (userId: string) => unknown) {
    for (const id of userIds) this.io.to(userRoom(id)).emit(event, payloadFor(id));
  }

  /** Sends a message to a room now, or with the room's next batch if it was sent one less than batchMs ago. */
  private deliver(room: string, message: ChatMessage) {
    const waiting = this.waiting.get(room);
    if (waiting) waiting.messages.push(message);
    else this.sendBatch(room, [message]);
  }

  private sendBatch(room: string, messages: ChatMessage[]) {
    this.io.to(room).emit('messages', messages);
    const { batchMs } = this.deps.config.chat;
    if (batchMs === 0) return;
    const timer = setTimeout(() => {
      const next = this.waiting.get(room)!.messages;
      this.waiting.delete(room);
      if (next.length) this.sendBatch(room, next);
    }, batchMs);
    this.waiting.set(room, { messages: [], timer });
  }

  private announce(event: ModerationEvent, channelId: string): ModerationEvent {
    this.io.to(roomOf(channelId)).emit('moderation', event);
    return event;
  }

  /** How much say a user has in a channel's chat. */
  private async levelOf(ch: { id: string; ownerId: string }, userId: string, role?: Role): Promise<number> {
    if (role === 'admin') return LEVEL.admin;
    if (ch.ownerId === userId) return LEVEL.owner;
    if (role === undefined) {
      const [u] = await this.deps.database.db.select({ role: user.role }).from(user).where(eq(user.id, userId)).limit(1);
      if (u?.role === 'admin') return LEVEL.admin;
    }
    const [m] = await this.deps.database.db
      .select({ userId: chatModerator.userId })
      .from(chatModerator)
      .where(and(eq(chatModerator.channelId, ch.id), eq(chatModerator.userId, userId)))
      .limit(1);
    return m ? LEVEL.moderator : LEVEL.viewer;
  }

  /** The signed-in moderator (or owner, or admin) of a channel, or a refusal. */
  private async moderator(socket: Socket, slug: string) {
    const me = socket.data.user as SessionUser | null;
    if (!me) throw new Refused({ code: 'unauthorized', message: 'Sign in to moderate.' });
    const ch = await this.channelBySlug(slug);
    const level = await this.levelOf(ch, me.id, me.role);
    if (level < LEVEL.moderator) throw new Refused({ code: 'forbidden', message: `Only the owner and moderators of "${ch.slug}" can do that.` });
    return { ch, me, level };
  }

  private async modes(channelId: string): Promise<ChatModes> {
    const [row] = await this.deps.database.db
      .select({ slowSeconds: chatSettings.slowSeconds, minAccountAgeMinutes: chatSettings.minAccountAgeMinutes, followersOnlyMinutes: chatSettings.followersOnlyMinutes, subscribersOnly: chatSettings.subscribersOnly })
      .from(chatSettings)
      .where(eq(chatSettings.channelId, channelId))
      .limit(1);
    return row ?? NO_MODES;
  }

  /** Slow mode and the minimum account age, for everyone below moderator. */
  private async checkModes(channelId: string, userId: string) {
    const { slowSeconds, minAccountAgeMinutes, followersOnlyMinutes, subscribersOnly } = await this.modes(channelId);
    const { db } = this.deps.database;
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

  private async checkBan(channelId: string, userId: string) {
    const [ban] = await this.deps.database.db
      .select({ until: chatBan.until })
      .from(chatBan)
      .where(and(eq(chatBan.channelId, channelId), eq(chatBan.userId, userId)))
      .limit(1);
    if (!ban) return;
    if (!ban.until) throw new Refused({ code: 'banned', message: 'You are banned from this chat.' });
    const left = ban.until.getTime() - Date.now();
    if (left > 0) throw new Refused({ code: 'timed-out', message: `You are timed out for ${Math.ceil(left / 1000)} more seconds.`, retryAfterMs: left });
  }

  private async limit(userId: string, ip: string) {
    try {
      // the user's own budget first: a user flooding alone does not use up the address's shared one
      await this.perUser.consume(userId);
      await this.perIp.consume(ip);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      throw new Refused({ code: 'rate-limited', message: 'You are sending messages too quickly.', retryAfterMs: err.msBeforeNext });
    }
  }

  private async channelBySlug(slug: string) {
    const [ch] = await this.deps.database.db.select({ id: channel.id, slug: channel.slug, ownerId: channel.ownerId }).from(channel).where(eq(channel.slug, slug)).limit(1);
    if (!ch) throw new Refused({ code: 'not-found', message: `The channel "${slug}" was not found.` });
    return ch;
  }

  private async store(channelId: string, slug: string, me: SessionUser, text: string): Promise<ChatMessage & { liveSessionId: string | null }> {
    const { db } = this.deps.database;
    const [live] = await db
      .select({ id: liveSession.id, startedAt: liveSession.startedAt })
      .from(liveSession)
      .where(and(eq(liveSession.channelId, channelId), isNull(liveSession.endedAt)))
      .limit(1);
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
    return { id: row.id, channel: slug, author: { id: me.id, name: me.name }, text, sentAt: sentAt.toISOString(), offsetMs: row.offsetMs, liveSessionId: row.liveSessionId };
  }

  private async history(channelId: string, slug: string): Promise<ChatMessage[]> {
    const rows = await this.deps.database.db
      .select({ id: chatMessage.id, userId: chatMessage.userId, name: user.name, body: chatMessage.body, createdAt: chatMessage.createdAt, offsetMs: chatMessage.offsetMs })
      .from(chatMessage)
      .innerJoin(user, eq(user.id, chatMessage.userId))
      .where(and(eq(chatMessage.channelId, channelId), isNull(chatMessage.deletedAt)))
      .orderBy(desc(chatMessage.createdAt), desc(chatMessage.id))
      .limit(HISTORY_SIZE);
    return rows.reverse().map((r) => ({ id: r.id, channel: slug, author: { id: r.userId, name: r.name }, text: r.body, sentAt: r.createdAt.toISOString(), offsetMs: r.offsetMs }));
  }

  async close(): Promise<void> {
    for (const [room, { messages, timer }] of this.waiting) {
      clearTimeout(timer);
      if (messages.length) this.io.to(room).emit('messages', messages);
    }
    this.waiting.clear();
    await new Promise<void>((resolve) => {
      this.io.close(() => resolve());
    });
    if (this.redis) await Promise.all([this.redis.pub.quit(), this.redis.sub.quit()]).catch(() => undefined);
  }
}
