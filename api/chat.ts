// Chat over Socket.IO on the API's own HTTP server (path /socket.io, behind Caddy with the rest of the origin).
// A room per channel; anyone may read, signed-in users send. Identity comes from the better-auth session cookie of
// the handshake — never from the client. Every message is stored before it is acknowledged or sent to anyone, so an
// acknowledged message is never lost; the stored id comes back in the acknowledgement.
// Messages reach a room as `messages` (an array): a quiet room's message goes out at once, a busy room's are sent
// together at most every CHAT_BATCH_MS — one WebSocket frame per reader per batch instead of one per message, which
// is what lets one process carry thousands of readers at tens of messages a second.
// Everything here is reachable by strangers without an account, so every cost is capped before it is paid: connections
// per client address and in total (refused in the handshake), bytes and packets per connection per second (over them
// the connection is closed), joins per socket and per address, rooms per socket, messages per user and per address,
// moderation actions per user; each rate limit is taken before any query runs. The client address is the one
// shared/client-address.ts names (X-Forwarded-For believed from TRUSTED_PROXIES only, e.g. Caddy).
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { Server, type Socket as AnySocket } from 'socket.io';
import { z } from 'zod';
import { channel, chatBan, chatMessage, chatModerator, chatSettings, follow, liveSession, user, type Role } from '../shared/db/index.ts';
import { clientAddress } from '../shared/client-address.ts';
import { DATABASE_RETRY_AFTER_MS, isDatabaseUnavailable } from '../shared/db/errors.ts';
import { ConcurrencyCap, RateLimit } from '../shared/limits.ts';
import { throttledWarn } from '../shared/logger.ts';
import { closeRedis, duplicateRedis, openRedis } from '../shared/redis.ts';
import { findTextFault, MAX_MESSAGE_CHARS } from '../shared/rules.ts';
import type { Ack, ChatMessage, ChatModes, ChatRefusal, ClientToServerEvents, ModerationEvent, ServerToClientEvents } from '../shared/socket-events.ts';
import { activeSubscription } from './entitlements.ts';
import type { Deps, SessionUser } from './context.ts';

// the longest message is a rule the web's chat panel reads too
export { MAX_MESSAGE_CHARS };
/** Messages a joining client receives. */
export const HISTORY_SIZE = 50;
/** Largest Socket.IO packet (engine.io's maxHttpBufferSize: a WebSocket frame, or one polling POST). */
export const MAX_PACKET_BYTES = 16 * 1024;
/** Bytes one connection may send per second in all (CHAT_SOCKET_PACKETS_PER_SECOND bounds its packets); over it, it is closed. */
export const SOCKET_BYTES_PER_SECOND = 64 * 1024;
/** Channels one socket may be in at once (a page needs one). */
export const MAX_ROOMS_PER_SOCKET = 10;
/** Joins per socket per CHAT_LIMIT_WINDOW_SECONDS (a page joins once, and again after a reconnect). */
export const SOCKET_JOINS = 20;
/** Moderation actions (modes, delete, timeout, ban, ...) per user per CHAT_LIMIT_WINDOW_SECONDS. */
export const USER_ACTIONS = 30;
/** Sends a user (or address) may attempt per window, as a multiple of the messages it may have accepted: the
 * attempts' budget is taken before any query, the messages' only by what passed the ban and mode checks (a refusal by
 * slow mode does not use up the budget of one's next messages). */
export const ATTEMPTS_PER_MESSAGE = 4;
/** How long a join's channel lookup (channel, modes, history) is reused by the joins after it. */
export const JOIN_CACHE_MS = 1000;

export type { ChatMessage, ChatModes, ChatRefusal, ModerationEvent } from '../shared/socket-events.ts';
const NO_MODES: ChatModes = { slowSeconds: 0, minAccountAgeMinutes: 0, followersOnlyMinutes: null, subscribersOnly: false };
/** Longest timeout: two weeks, as on Twitch. */
export const MAX_TIMEOUT_SECONDS = 14 * 24 * 3600;

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

/** The engine.io connection under a Socket.IO socket, as far as the caps use it. */
type EngineConnection = {
  request: IncomingMessage;
  close(): void;
  once(event: 'close', fn: () => void): void;
  on(event: 'packet', fn: (packet: { type: string; data?: unknown }) => void): void;
};

class Refused extends Error {
  constructor(readonly refusal: ChatRefusal) {
    super(refusal.message);
  }
}

const roomOf = (channelId: string) => `chat:${channelId}`;
const modsRoom = (channelId: string) => `mods:${channelId}`;
const userRoom = (userId: string) => `user:${userId}`;
type ChannelRef = { id: string; slug: string; ownerId: string };
/** What a join sends back about a channel, shared by every join within JOIN_CACHE_MS. */
type ChannelView = { ch: ChannelRef; modes: ChatModes; history: ChatMessage[] };

/** The client's address for an HTTP request of the handshake (the peer, or X-Forwarded-For from a trusted proxy). */
const addressOf = (req: IncomingMessage, trusted: Deps['config']['trustedProxies']) => {
  const xff = req.headers['x-forwarded-for'];
  return clientAddress(req.socket.remoteAddress, Array.isArray(xff) ? xff.join(',') : xff, trusted);
};
const LEVEL = { viewer: 0, moderator: 1, owner: 2, admin: 3 } as const;
const RANK = ['viewer', 'moderator', 'owner', 'admin'] as const;
/** what a connection carries from its handshake (identify) */
type SocketData = { user: SessionUser | null; address: string };
type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type Socket = AnySocket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export class Chat {
  readonly io: ChatServer;
  private readonly perUser: RateLimit;
  private readonly perAddress: RateLimit;
  private readonly attemptsPerUser: RateLimit;
  private readonly attemptsPerAddress: RateLimit;
  private readonly joinsPerSocket: RateLimit;
  private readonly joinsPerAddress: RateLimit;
  private readonly actionsPerUser: RateLimit;
  /** Socket.IO connections held, per client address and in total */
  readonly connections: ConcurrencyCap;
  /** Recent joins' channel lookups by slug (a null: no such channel), each for JOIN_CACHE_MS. */
  private readonly views = new Map<string, { until: number; view: Promise<ChannelView | null> }>();
  private readonly databaseDown: (err: unknown) => void;
  /** Rooms that were sent a batch less than batchMs ago, with what waits for their next one. */
  private readonly waiting = new Map<string, { messages: ChatMessage[]; timer: NodeJS.Timeout }>();

  /**
   * With REDIS_URL, rooms span every API process through the Socket.IO Redis adapter and the rate limits are kept in
   * Redis (one budget per user whichever process they reach); without it, in this process.
   */
  static async create(server: HttpServer, deps: Deps): Promise<Chat> {
    const { redisUrl, redisPrefix } = deps.config;
    if (!redisUrl) return new Chat(server, deps);
    const { createAdapter } = await import('@socket.io/redis-adapter');
    const log = deps.log.child({ svc: 'chat' });
    const pub = await openRedis(redisUrl, 'chat-pub', 'command', log);
    const sub = await duplicateRedis(pub, 'chat-sub', 'subscriber', log);
    // The adapter publishes every room broadcast and never looks at the result: while Redis is away each one would be
    // an unhandled rejection, which ends the process. Chat in this process goes on (the adapter has already sent
    // to this process's sockets); what the other processes miss is logged, at most every LOG_EVERY_MS.
    const failed = throttledWarn(log, 'chat broadcast not sent to other API processes (redis unavailable)');
    const publish = pub.publish.bind(pub) as (...args: unknown[]) => Promise<number>;
    (pub as unknown as { publish: (...args: unknown[]) => Promise<number> }).publish = (...args) => {
      const sent = publish(...args);
      sent.catch(failed);
      return sent;
    };
    return new Chat(server, deps, { pub, sub, adapter: createAdapter(pub, sub, { key: `${redisPrefix}socket.io` }) });
  }

  private constructor(
    server: HttpServer,
    private readonly deps: Deps,
    private readonly redis?: { pub: import('ioredis').Redis; sub: import('ioredis').Redis; adapter: ReturnType<typeof import('@socket.io/redis-adapter').createAdapter> },
  ) {
    const { config } = deps;
    this.databaseDown = throttledWarn(deps.log, 'chat: database unavailable; refusing with unavailable');
    const { userMessages, addressMessages, windowSeconds, addressJoins, connectionsPerAddress, connectionsTotal } = config.chat;
    const shared = { seconds: windowSeconds, ...(redis ? { redis: redis.pub, prefix: config.redisPrefix } : {}) };
    // per user, and per client address (several users behind one NAT share it): CHAT_*_MESSAGES per window
    this.perUser = new RateLimit({ name: 'chat-user', points: userMessages, ...shared });
    this.perAddress = new RateLimit({ name: 'chat-address', points: addressMessages, ...shared });
    this.attemptsPerUser = new RateLimit({ name: 'chat-user-attempts', points: userMessages * ATTEMPTS_PER_MESSAGE, ...shared });
    this.attemptsPerAddress = new RateLimit({ name: 'chat-address-attempts', points: addressMessages * ATTEMPTS_PER_MESSAGE, ...shared });
    this.joinsPerAddress = new RateLimit({ name: 'chat-joins', points: addressJoins, ...shared });
    this.actionsPerUser = new RateLimit({ name: 'chat-actions', points: USER_ACTIONS, ...shared });
    // a socket lives in one process: its budget does too
    this.joinsPerSocket = new RateLimit({ name: 'chat-socket-joins', points: SOCKET_JOINS, seconds: windowSeconds });
    this.connections = new ConcurrencyCap({ perKey: connectionsPerAddress, total: connectionsTotal });
    const allowed = new Set([new URL(config.publicUrl).origin, ...config.trustedOrigins.map((o) => new URL(o).origin)]);
    this.io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(server, {
      path: '/socket.io',
      serveClient: false,
      // bounds a WebSocket frame and a polling POST alike (engine.io answers a larger POST 413)
      maxHttpBufferSize: MAX_PACKET_BYTES,
      ...(redis ? { adapter: redis.adapter } : {}),
      allowRequest: (req, callback) => {
        // The session cookie rides on the handshake: only pages of Glint's own origin (or a trusted one) may use it,
        // or any site could chat as its visitors (cross-site WebSocket hijacking). Clients without an Origin header
        // (not browsers) are allowed; they carry no one else's cookie.
        const origin = req.headers.origin;
        const host = req.headers.host;
        if (origin && !allowed.has(origin) && !(host && (origin === `http://${host}` || origin === `https://${host}`))) return callback('cross-site origin', false);
        // connections per address and in total: refused before a session is made (taken when it is, below)
        const full = this.connections.refusal(addressOf(req, config.trustedProxies));
        if (full) return callback(full === 'total' ? 'chat is full; try again later' : 'too many chat connections from your address', false);
        callback(null, true);
      },
    });
    this.io.engine.on('connection', (conn: EngineConnection) => this.admit(conn));
    this.io.use((socket, next) => {
      this.identify(socket).then(
        (u) => {
          socket.data.user = u;
          socket.data.address = addressOf(socket.request, config.trustedProxies);
          next();
        },
        (err) => next(err as Error),
      );
    });
    this.io.on('connection', (socket) => this.connected(socket));
  }

  /**
   * A new engine.io connection (before any namespace): holds one of its address's connections until it closes, and
   * is closed when it sends more than CHAT_SOCKET_PACKETS_PER_SECOND packets or SOCKET_BYTES_PER_SECOND bytes in a second
   * (any packet — events, acknowledgements, pings — over either transport), or anything binary: chat has no binary
   * events, and a binary packet's attachments would otherwise be buffered until they all arrive.
   */
  private admit(conn: EngineConnection) {
    const release = this.connections.acquire(addressOf(conn.request, this.deps.config.trustedProxies));
    if (!release) return conn.close(); // another handshake took the last place since allowRequest
    conn.once('close', release);
    const maxPackets = this.deps.config.chat.socketPacketsPerSecond;
    let second = 0;
    let packets = 0;
    let bytes = 0;
    conn.on('packet', (packet: { type: string; data?: unknown }) => {
      const now = Math.floor(Date.now() / 1000);
      if (now !== second) [second, packets, bytes] = [now, 0, 0];
      const data = packet.data;
      const binary = data !== undefined && typeof data !== 'string';
      // a Socket.IO packet of type 5/6 (binary event/ack) announces attachments
      const announcesBinary = packet.type === 'message' && typeof data === 'string' && (data[0] === '5' || data[0] === '6');
      bytes += typeof data === 'string' ? data.length : binary ? ((data as { byteLength?: number }).byteLength ?? MAX_PACKET_BYTES) : 0;
      if (++packets > maxPackets || bytes > SOCKET_BYTES_PER_SECOND || binary || announcesBinary) {
        this.deps.log.debug({ packets, bytes, binary: binary || announcesBinary }, 'chat connection closed: it sent too much');
        conn.close();
      }
    });
  }

  private async identify(socket: Socket): Promise<SessionUser | null> {
    const cookie = socket.handshake.headers.cookie;
    if (!cookie) return null;
    const found = await this.deps.auth.api.getSession({ headers: new Headers({ cookie }) });
    if (!found) return null;
    return { id: found.user.id, name: found.user.name, email: found.user.email, role: (found.user.role ?? 'user') as Role };
  }

  private connected(socket: Socket) {
    // a signed-in user's own room: notifications reach every tab and device they have open, on any API process; the
    // server alone puts a socket in it (a join names a channel, whose room is named by its id)
    const address = socket.data.address as string;
    const handshakeUser = socket.data.user as SessionUser | null;
    if (handshakeUser) void socket.join(userRoom(handshakeUser.id));
    const joined = new Map<string, ChannelRef>(); // by slug
    const handle =
      <T>(fn: (payload: unknown) => Promise<T>) =>
      (payload: unknown, ack?: Ack<T>) => {
        const reply = typeof ack === 'function' ? ack : () => undefined;
        // the error boundary of one event: whatever it throws ends as a refusal to this socket, never further
        Promise.resolve()
          .then(() => {
            // text no database stores (NUL, lone surrogates) anywhere in the payload, or nesting past the cap, is
            // refused before any handler reads it (an iterative walk: a deep payload cannot overflow the stack)
            const fault = findTextFault(payload, 'payload');
            if (fault) throw new Refused({ code: 'invalid', message: `Invalid payload: ${fault.path} ${fault.message}.`.slice(0, 300) });
            return fn(payload);
          })
          .then(
            (value) => reply({ ok: true, ...value }),
            (err) => {
              const down = isDatabaseUnavailable(err);
              const refusal: ChatRefusal =
                err instanceof Refused
                  ? err.refusal
                  : down
                    ? { code: 'unavailable', message: 'Chat cannot reach its database right now; try again in a few seconds.', retryAfterMs: DATABASE_RETRY_AFTER_MS }
                    : err instanceof z.ZodError
                      ? { code: 'invalid', message: `Invalid payload: ${err.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ')}`.slice(0, 300) }
                      : { code: 'invalid', message: 'The message could not be handled.' };
              if (down) this.databaseDown(err);
              else if (!(err instanceof Refused) && !(err instanceof z.ZodError)) this.deps.log.error({ err }, 'chat handler failed');
              socket.emit('refused', refusal);
              reply({ ok: false, error: refusal });
            },
          )
          .catch((err) => {
            this.deps.log.warn({ err }, 'chat reply failed; closing the connection');
            socket.disconnect(true);
          });
      };

    socket.on(
      'join',
      handle(async (payload) => {
        const { channel: slug } = slugSchema.parse(payload);
        // the budgets first: a flood of joins costs no query
        await this.take(this.joinsPerSocket, socket.id, 'You are joining channels too quickly.');
        await this.take(this.joinsPerAddress, address, 'Too many channels are being joined from your address.');
        if (joined.size >= MAX_ROOMS_PER_SOCKET && !joined.has(slug)) {
          throw new Refused({ code: 'too-many-rooms', message: `A connection is in at most ${MAX_ROOMS_PER_SOCKET} channels' chats; leave one first.` });
        }
        const view = await this.channelView(slug);
        if (!view) throw new Refused({ code: 'not-found', message: `The channel "${slug}" was not found.` });
        const { ch } = view;
        await socket.join(roomOf(ch.id));
        joined.set(ch.slug, ch);
        // what the client may offer this user (the server checks every action again)
        const me = socket.data.user as SessionUser | null;
        const level = me ? await this.levelOf(ch, me.id, me.role) : LEVEL.viewer;
        if (level >= LEVEL.moderator) await socket.join(modsRoom(ch.id));
        return { channel: ch.slug, you: me ? RANK[level] : null, modes: view.modes, history: view.history };
      }),
    );
    socket.on(
      'leave',
      handle(async (payload) => {
        const { channel: slug } = slugSchema.parse(payload);
        const ch = joined.get(slug);
        if (ch) await Promise.all([socket.leave(roomOf(ch.id)), socket.leave(modsRoom(ch.id))]);
        joined.delete(slug);
        return {};
      }),
    );
    socket.on(
      'send',
      handle(async (payload) => {
        const signedIn = socket.data.user as SessionUser | null;
        if (!signedIn) throw new Refused({ code: 'unauthorized', message: 'Sign in to chat.' });
        const { channel: slug, text: raw } = sendSchema.parse(payload);
        const ch = joined.get(slug);
        if (!ch) throw new Refused({ code: 'not-joined', message: `Join "${slug}" before sending to it.` });
        const channelId = ch.id;
        const text = raw.trim();
        if (!text) throw new Refused({ code: 'invalid', message: 'The message is empty.' });
        if ([...text].length > MAX_MESSAGE_CHARS) throw new Refused({ code: 'invalid', message: `Messages are at most ${MAX_MESSAGE_CHARS} characters.` });
        // the attempts' budgets before any query (ban, modes, store): a flood, banned or not, costs none
        await this.take(this.attemptsPerUser, signedIn.id, 'You are sending messages too quickly.');
        await this.take(this.attemptsPerAddress, address, 'You are sending messages too quickly.');
        const me = await this.confirm(socket);
        await this.checkBan(channelId, me.id);
        if ((await this.levelOf(ch, me.id, me.role)) < LEVEL.moderator) await this.checkModes(channelId, me.id);
        await this.limit(me.id, address);
        const { liveSessionId, ...message } = await this.store(channelId, slug, me, text);
        this.views.delete(slug); // the next join's history has it
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
        this.views.delete(ch.slug);
        // who changed them, for the moderators only (as for moderation events)
        this.io.to(roomOf(ch.id)).except(modsRoom(ch.id)).emit('modes', { channel: ch.slug, ...modes });
        this.io.to(modsRoom(ch.id)).emit('modes', { channel: ch.slug, ...modes, by: me.id });
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
        this.views.delete(ch.slug);
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
          // their open connections hear (or stop hearing) what only moderators hear, on every API process
          if (action === 'mod') this.io.in(userRoom(p.userId)).socketsJoin(modsRoom(ch.id));
          else if ((await this.levelOf(ch, p.userId)) < LEVEL.moderator) this.io.in(userRoom(p.userId)).socketsLeave(modsRoom(ch.id));
          return { event: this.announce({ channel: ch.slug, action, userId: p.userId, until: null, by: me.id }, ch.id) };
        }),
      );
    }
  }

  /** Sends an event to every connection of each of these users (on any API process). */
  toUsers<E extends keyof ServerToClientEvents>(userIds: string[], event: E, payloadFor: (userId: string) => Parameters<ServerToClientEvents[E]>[0]) {
    for (const id of userIds) this.io.to(userRoom(id)).emit(event, ...([payloadFor(id)] as Parameters<ServerToClientEvents[E]>));
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
    const seen = { channel: event.channel, action: event.action, userId: event.userId, until: event.until };
    this.io.to(roomOf(channelId)).except(modsRoom(channelId)).emit('moderation', seen);
    this.io.to(modsRoom(channelId)).emit('moderation', event);
    // the affected user learns of it wherever they are connected (they are told, not who did it)
    if (event.action !== 'mod' && event.action !== 'unmod') this.io.to(userRoom(event.userId)).except(roomOf(channelId)).emit('moderation', seen);
    return event;
  }

  /**
   * The socket's user, confirmed against the session store before a state change (a send, a moderation action): a
   * session signed out or revoked since the handshake, or an account deleted, acts no more on a socket that stayed
   * open, and a changed role counts at once. One lookup, after the rate limits.
   */
  private async confirm(socket: Socket): Promise<SessionUser> {
    const was = socket.data.user as SessionUser;
    const now = await this.identify(socket);
    if (!now || now.id !== was.id) {
      socket.data.user = null;
      void socket.leave(userRoom(was.id));
      throw new Refused({ code: 'unauthorized', message: 'Your session has ended: sign in again to chat.' });
    }
    socket.data.user = now;
    return now;
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
    const signedIn = socket.data.user as SessionUser | null;
    if (!signedIn) throw new Refused({ code: 'unauthorized', message: 'Sign in to moderate.' });
    await this.take(this.actionsPerUser, signedIn.id, 'You are moderating too quickly.');
    const me = await this.confirm(socket);
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

  /** Takes one from a budget, or refuses with how long to wait. */
  private async take(limit: RateLimit, key: string, message: string) {
    const took = await limit.take(key);
    if (!took.ok) throw new Refused({ code: 'rate-limited', message, retryAfterMs: took.retryAfterMs });
  }

  private async limit(userId: string, address: string) {
    // the user's own budget first: a user flooding alone does not use up the address's shared one
    await this.take(this.perUser, userId, 'You are sending messages too quickly.');
    await this.take(this.perAddress, address, 'You are sending messages too quickly.');
  }

  private async channelBySlug(slug: string): Promise<ChannelRef> {
    const [ch] = await this.deps.database.db.select({ id: channel.id, slug: channel.slug, ownerId: channel.ownerId }).from(channel).where(eq(channel.slug, slug)).limit(1);
    if (!ch) throw new Refused({ code: 'not-found', message: `The channel "${slug}" was not found.` });
    return ch;
  }

  /**
   * A channel as a join shows it (the channel, its modes, its recent history), looked up once and shared by every
   * join of it within JOIN_CACHE_MS — a crowd arriving at once (a raid, a reconnect storm) costs one lookup; an
   * unknown slug is remembered as such too. This process's own sends, deletes and mode changes drop the entry.
   */
  private channelView(slug: string): Promise<ChannelView | null> {
    const now = Date.now();
    const cached = this.views.get(slug);
    if (cached && cached.until > now) return cached.view;
    if (this.views.size >= 10_000) {
      for (const [k, v] of this.views) if (v.until <= now || this.views.size >= 10_000) this.views.delete(k);
    }
    const view = (async () => {
      // the channel and its modes in one query, then its history
      const [row] = await this.deps.database.db
        .select({
          id: channel.id,
          slug: channel.slug,
          ownerId: channel.ownerId,
          slowSeconds: chatSettings.slowSeconds,
          minAccountAgeMinutes: chatSettings.minAccountAgeMinutes,
          followersOnlyMinutes: chatSettings.followersOnlyMinutes,
          subscribersOnly: chatSettings.subscribersOnly,
        })
        .from(channel)
        .leftJoin(chatSettings, eq(chatSettings.channelId, channel.id))
        .where(eq(channel.slug, slug))
        .limit(1);
      if (!row) return null;
      const { id, ownerId, slowSeconds, minAccountAgeMinutes, followersOnlyMinutes, subscribersOnly } = row;
      const modes: ChatModes = slowSeconds === null ? NO_MODES : { slowSeconds, minAccountAgeMinutes: minAccountAgeMinutes ?? 0, followersOnlyMinutes, subscribersOnly: subscribersOnly ?? false };
      return { ch: { id, slug: row.slug, ownerId }, modes, history: await this.history(id, row.slug) };
    })();
    this.views.set(slug, { until: now + JOIN_CACHE_MS, view });
    view.catch(() => this.views.delete(slug)); // a failed lookup is not remembered
    return view;
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
    if (this.redis) await Promise.all([closeRedis(this.redis.pub), closeRedis(this.redis.sub)]);
  }
}
