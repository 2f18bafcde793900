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
// Here: the sockets, their identity, caps and limits, and the events. What chat allows is in rules.ts, what it keeps in
// store.ts, the batches in batching.ts; pushes to a user's own connections (notifications) are api/user-push.ts's.
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { and, eq, isNull } from 'drizzle-orm';
import { Server, type Socket as AnySocket } from 'socket.io';
import { z } from 'zod';
import { chatBan, chatMessage, chatModerator, chatSettings, user, type Role } from '../../shared/db/index.ts';
import { clientAddress } from '../../shared/client-address.ts';
import { DATABASE_RETRY_AFTER_MS, isDatabaseUnavailable } from '../../shared/db/errors.ts';
import { ConcurrencyCap, RateLimit } from '../../shared/limits.ts';
import { throttledWarn } from '../../shared/logger.ts';
import { closeRedis, duplicateRedis, openRedis } from '../../shared/redis.ts';
import { findTextFault } from '../../shared/rules.ts';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '../../shared/socket-events.ts';
import type { Deps, SessionUser } from '../context.ts';
import { sessionOf } from '../session.ts';
import { UserPush, userRoom } from '../user-push.ts';
import { LiveState } from '../live-state.ts';
import { Batches } from './batching.ts';
import {
  LEVEL,
  RANK,
  MAX_MESSAGE_CHARS,
  Refused,
  chatModes,
  checkBan,
  checkModes,
  deleteSchema,
  levelOf,
  badgesOf,
  bansOf,
  moderatorsOf,
  modesSchema,
  nameSchema,
  sendSchema,
  slugSchema,
  targetSchema,
  timeoutSchema,
  type ChatRefusal,
  type ModerationEvent,
} from './rules.ts';
import { ChannelViews, channelBySlug, liveSessionOf, storeMessage, type ChannelRef } from './store.ts';

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
/** what a connection carries from its handshake (identify) */
type SocketData = { user: SessionUser | null; address: string };
type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type Socket = AnySocket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** The engine.io connection under a Socket.IO socket, as far as the caps use it. */
type EngineConnection = {
  request: IncomingMessage;
  close(): void;
  once(event: 'close', fn: () => void): void;
  on(event: 'packet', fn: (packet: { type: string; data?: unknown }) => void): void;
};

const roomOf = (channelId: string) => `chat:${channelId}`;
const modsRoom = (channelId: string) => `mods:${channelId}`;

/** The client's address for an HTTP request of the handshake (the peer, or X-Forwarded-For from a trusted proxy). */
const peerAddressOf = (req: IncomingMessage, trusted: Deps['config']['trustedProxies']) => {
  const xff = req.headers['x-forwarded-for'];
  return clientAddress(req.socket.remoteAddress, Array.isArray(xff) ? xff.join(',') : xff, trusted);
};

/** Every promise's value, once all have settled; else the first failure in their order (not in time). */
async function allInOrder<T extends readonly unknown[]>(promises: readonly [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const settled = await Promise.allSettled(promises);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

export type ChatOptions = {
  /** Decides a handshake request's client address instead of its peer (the Deno API's bridge, which is every peer). */
  addressOf?: (req: IncomingMessage) => string | undefined;
};
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
  /** Recent joins' channel lookups by slug, each for JOIN_CACHE_MS. */
  private readonly views: ChannelViews;
  private readonly databaseDown: (err: unknown) => void;
  private readonly batches: Batches;
  /** pushes to signed-in users' own rooms (notifications), over this server's connections */
  readonly push: UserPush;
  /** live state (live/offline, viewers, recordings) for the channels each page watches, over the same connections */
  readonly live: LiveState;

  /**
   * With REDIS_URL, rooms span every API process through the Socket.IO Redis adapter and the rate limits are kept in
   * Redis (one budget per user whichever process they reach); without it, in this process.
   */
  static async create(server: HttpServer, deps: Deps, options: ChatOptions = {}): Promise<Chat> {
    const { redisUrl, redisPrefix } = deps.config;
    if (!redisUrl) return new Chat(server, deps, options);
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
    return new Chat(server, deps, options, { pub, sub, adapter: createAdapter(pub, sub, { key: `${redisPrefix}socket.io` }) });
  }

  private constructor(
    server: HttpServer,
    private readonly deps: Deps,
    private readonly options: ChatOptions,
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
        const full = this.connections.refusal(this.addressOf(req));
        if (full) return callback(full === 'total' ? 'chat is full; try again later' : 'too many chat connections from your address', false);
        callback(null, true);
      },
    });
    this.views = new ChannelViews(deps.database.db, deps.reads);
    this.batches = new Batches(this.io, config.chat.batchMs);
    this.push = new UserPush(this.io);
    this.live = new LiveState(this.io as unknown as ConstructorParameters<typeof LiveState>[0], deps, redis ? { redis: redis.pub, prefix: config.redisPrefix } : {});
    this.io.engine.on('connection', (conn: EngineConnection) => this.admit(conn));
    this.io.use((socket, next) => {
      this.identify(socket).then(
        (u) => {
          socket.data.user = u;
          socket.data.address = this.addressOf(socket.request);
          next();
        },
        (err) => next(err as Error),
      );
    });
    this.io.on('connection', (socket) => this.connected(socket));
  }

  private addressOf(req: IncomingMessage): string {
    return this.options.addressOf?.(req) ?? peerAddressOf(req, this.deps.config.trustedProxies);
  }

  /**
   * A new engine.io connection (before any namespace): holds one of its address's connections until it closes, and
   * is closed when it sends more than CHAT_SOCKET_PACKETS_PER_SECOND packets or SOCKET_BYTES_PER_SECOND bytes in a second
   * (any packet — events, acknowledgements, pings — over either transport), or anything binary: chat has no binary
   * events, and a binary packet's attachments would otherwise be buffered until they all arrive.
   */
  private admit(conn: EngineConnection) {
    const release = this.connections.acquire(this.addressOf(conn.request));
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
    const found = await sessionOf(this.deps.auth, new Headers({ cookie }));
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
        const view = await this.views.get(slug);
        if (!view) throw new Refused({ code: 'not-found', message: `The channel "${slug}" was not found.` });
        const { ch } = view;
        await socket.join(roomOf(ch.id));
        joined.set(ch.slug, ch);
        // what the client may offer this user (the server checks every action again)
        const me = socket.data.user as SessionUser | null;
        const level = me ? await levelOf(this.deps.database.db, ch, me.id, me.role) : LEVEL.viewer;
        if (level >= LEVEL.moderator) await socket.join(modsRoom(ch.id));
        return { channel: ch.slug, you: me ? RANK[level] : null, modes: view.modes, history: view.history, emotes: view.emotes };
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
        // the checks and what the message will carry are reads independent of each other: one round trip's wait for
        // all of them instead of one after another (in a big room each send's wait is every reader's); a refusal
        // still comes in the checks' order (a ban before the modes)
        const db = this.deps.database.db;
        const [, , badges, live] = await allInOrder([
          checkBan(db, channelId, me.id),
          levelOf(db, ch, me.id, me.role).then((level) => (level < LEVEL.moderator ? checkModes(db, channelId, me.id, text) : undefined)),
          badgesOf(db, ch, [me.id]),
          liveSessionOf(db, channelId),
        ]);
        await this.limit(me.id, address);
        const { liveSessionId, ...message } = await storeMessage(db, { id: channelId, slug }, me, badges.get(me.id) ?? [], text, live);
        await this.views.delete(slug); // the next join's history has it (other processes' too: chat.message)
        this.batches.deliver(roomOf(channelId), message);
        void this.deps.bus.publish('chat.message', { channelId, slug, messageId: message.id, userId: me.id, liveSessionId }).catch(() => undefined);
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
          ...(p.emoteOnly !== undefined ? { emoteOnly: p.emoteOnly } : {}),
          updatedBy: me.id,
        };
        await this.deps.database.db.insert(chatSettings).values({ channelId: ch.id, ...set }).onConflictDoUpdate({ target: chatSettings.channelId, set });
        const modes = await chatModes(this.deps.database.db, ch.id);
        await this.views.delete(ch.slug);
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
        this.batches.unsend(roomOf(ch.id), id);
        await this.views.delete(ch.slug);
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
          if ((await levelOf(this.deps.database.db, ch, p.userId)) >= level) throw new Refused({ code: 'forbidden', message: 'You cannot do that to the channel owner, an admin or a fellow moderator.' });
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
          return { event: await this.appoint(action, ch, me, level, p.userId) };
        }),
      );
    }

    // --- moderation in the page: the banned list, the moderators, appointing by name ---
    socket.on(
      'bans',
      handle(async (payload) => {
        const { channel: slug } = slugSchema.parse(payload);
        const { ch } = await this.moderator(socket, slug);
        return { bans: await bansOf(this.deps.database.db, ch.id) };
      }),
    );
    socket.on(
      'moderators',
      handle(async (payload) => {
        const { channel: slug } = slugSchema.parse(payload);
        const { ch } = await this.moderator(socket, slug);
        return { moderators: await moderatorsOf(this.deps.database.db, ch.id) };
      }),
    );
    socket.on(
      'modByName',
      handle(async (payload) => {
        const p = nameSchema.parse(payload);
        const { ch, me, level } = await this.moderator(socket, p.channel);
        if (level < LEVEL.owner) throw new Refused({ code: 'forbidden', message: 'Only the channel owner (or an admin) appoints moderators.' });
        const found = await this.deps.database.db.select({ id: user.id, name: user.name }).from(user).where(eq(user.name, p.name)).limit(2);
        if (!found.length) throw new Refused({ code: 'not-found', message: `No user is named "${p.name}".` });
        if (found.length > 1) throw new Refused({ code: 'invalid', message: `Several users are named "${p.name}": appoint them from one of their messages instead.` });
        return { event: await this.appoint('mod', ch, me, level, found[0]!.id), user: found[0]! };
      }),
    );
  }

  /** Appoints or removes a moderator (the owner or an admin): the channel hears it, their connections join or leave the moderators' room. */
  private async appoint(action: 'mod' | 'unmod', ch: ChannelRef, me: SessionUser, level: number, userId: string): Promise<ModerationEvent> {
    const { db } = this.deps.database;
    if (level < LEVEL.owner) throw new Refused({ code: 'forbidden', message: 'Only the channel owner (or an admin) appoints moderators.' });
    const [target] = await db.select({ id: user.id }).from(user).where(eq(user.id, userId)).limit(1);
    if (!target) throw new Refused({ code: 'not-found', message: 'That user was not found.' });
    if (action === 'mod') await db.insert(chatModerator).values({ channelId: ch.id, userId, appointedBy: me.id }).onConflictDoNothing();
    else await db.delete(chatModerator).where(and(eq(chatModerator.channelId, ch.id), eq(chatModerator.userId, userId)));
    await this.views.delete(ch.slug); // the history's badges change
    // their open connections hear (or stop hearing) what only moderators hear, on every API process
    if (action === 'mod') this.io.in(userRoom(userId)).socketsJoin(modsRoom(ch.id));
    else if ((await levelOf(db, ch, userId)) < LEVEL.moderator) this.io.in(userRoom(userId)).socketsLeave(modsRoom(ch.id));
    return this.announce({ channel: ch.slug, action, userId, until: null, by: me.id }, ch.id);
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


  /** The signed-in moderator (or owner, or admin) of a channel, or a refusal. */
  private async moderator(socket: Socket, slug: string) {
    const signedIn = socket.data.user as SessionUser | null;
    if (!signedIn) throw new Refused({ code: 'unauthorized', message: 'Sign in to moderate.' });
    await this.take(this.actionsPerUser, signedIn.id, 'You are moderating too quickly.');
    const me = await this.confirm(socket);
    const ch = await channelBySlug(this.deps.database.db, slug);
    const level = await levelOf(this.deps.database.db, ch, me.id, me.role);
    if (level < LEVEL.moderator) throw new Refused({ code: 'forbidden', message: `Only the owner and moderators of "${ch.slug}" can do that.` });
    return { ch, me, level };
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





  async close(): Promise<void> {
    this.batches.close();
    this.live.close();
    await new Promise<void>((resolve) => {
      this.io.close(() => resolve());
    });
    if (this.redis) await Promise.all([closeRedis(this.redis.pub), closeRedis(this.redis.sub)]);
  }
}
