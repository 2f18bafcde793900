// Live state pushed to the pages that show it: a page `watch`es the channels it shows (its cards, the channel it
// plays) on its one socket, and hears each go live (`channel:live`), end (`channel:offline`, with the recording's id),
// its viewer count (`channel:viewers`, at most once a second per channel) and its recording become playable
// (`vod:ready`) — from the bus events the SFU and the recorder publish, so nothing polls.
// Every API process hears every bus event (in process, or through Redis), so each one delivers to its own sockets only
// (`io.local`): with the Socket.IO Redis adapter a room broadcast from each process would reach every socket once per
// process. A `watch` is bounded (channels per socket), validated and rate-limited like chat's `join`.
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Server, Socket } from 'socket.io';
import { z } from 'zod';
import { channel, liveSession, vod } from '../shared/db/index.ts';
import { DATABASE_RETRY_AFTER_MS, isDatabaseUnavailable } from '../shared/db/errors.ts';
import { RateLimit } from '../shared/limits.ts';
import { previewKey } from '../shared/media.ts';
import { SLUG_PATTERN } from '../shared/rules.ts';
import type { Ack, ChatRefusal, ClientToServerEvents, LiveSnapshot, ServerToClientEvents, VodProgress } from '../shared/socket-events.ts';
import type { Rendition } from '../shared/vod-ladder.ts';
import type { Deps } from './context.ts';
import type { Viewer } from './entitlements.ts';
import { vodAccess } from './vod-visibility.ts';

/** Channels one socket watches at once: a page of cards (home shows 24 a page, and more after "Show more"). */
export const MAX_WATCHED = 100;
/** Watches per socket per CHAT_LIMIT_WINDOW_SECONDS: a page watches on each change of what it shows. */
export const SOCKET_WATCHES = 30;
/** The least time between two viewer counts of one channel sent to its watchers. */
export const VIEWERS_EVERY_MS = 1000;

const watchSchema = z.object({
  channels: z
    .array(z.string().max(64).regex(SLUG_PATTERN, 'not a channel address'))
    .max(MAX_WATCHED, `A connection watches at most ${MAX_WATCHED} channels.`),
  directory: z.boolean().optional(),
});

/** A channel's watchers, by its address (what pages know; the SFU's events carry the current one). */
const roomOf = (slug: string) => `live:${slug}`;
/** A VoD's watchers (its page, while it transcodes). */
const vodRoom = (vodId: string) => `vod:${vodId}`;
const vodWatchSchema = z.object({ vodId: z.uuid().nullable() });
/** What a page hears of a transcode: the ladder without the encoder's settings. */
const progressView = (e: { vodId: string; status: string; renditions: Rendition[] }): VodProgress => ({
  vodId: e.vodId,
  status: e.status,
  renditions: e.renditions.map((r) => ({ name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth, codecs: r.codecs, status: r.status, progress: r.progress })),
});

/** Sockets that hear every channel go live or offline (pages counting live channels). */
const DIRECTORY = 'live:directory';

type LiveServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { address: string }>;
type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { address: string }>;
type Refusal = { refusal: ChatRefusal };
const refuse = (refusal: ChatRefusal): Refusal => ({ refusal });

/** A channel's latest viewer count while its last one is younger than VIEWERS_EVERY_MS. */
type ViewerWindow = { timer: ReturnType<typeof setTimeout>; pending: { slug: string; count: number } | null };

export class LiveState {
  private readonly perSocket: RateLimit;
  private readonly perAddress: RateLimit;
  private readonly viewerWindows = new Map<string, ViewerWindow>();
  private readonly unsubscribe: (() => void)[];

  /** `shared`: where rate budgets are kept (Redis with REDIS_URL, as chat's). */
  constructor(
    private readonly io: LiveServer,
    private readonly deps: Deps,
    shared: { redis?: import('ioredis').Redis; prefix?: string } = {},
  ) {
    const seconds = deps.config.chat.windowSeconds;
    // a socket lives in one process: its budget does too
    this.perSocket = new RateLimit({ name: 'live-watch-socket', points: SOCKET_WATCHES, seconds });
    this.perAddress = new RateLimit({ name: 'live-watch-address', points: deps.config.chat.addressJoins, seconds, ...shared });
    const { bus } = deps;
    const safely =
      <T>(what: string, fn: (e: T) => Promise<void>) =>
      (e: T) =>
        void fn(e).catch((err) => deps.log.warn({ err }, `live state: could not pass on ${what}`));
    this.unsubscribe = [
      bus.subscribe('channel.live', safely('a go-live', (e) => this.wentLive(e))),
      bus.subscribe('broadcast.renamed', safely('a rename', (e) => this.wentLive(e))),
      bus.subscribe('channel.offline', safely('an end of broadcast', (e) => this.wentOffline(e))),
      bus.subscribe('channel.viewers', (e) => this.viewers(e.channelId, e.slug, e.viewers)),
      bus.subscribe('vod.ready', safely('a recording', (e) => this.vodReady(e))),
      bus.subscribe('vod.progress', (e) => {
        if (this.watchedHere(vodRoom(e.vodId))) this.io.local.to(vodRoom(e.vodId)).emit('vod:progress', progressView(e));
      }),
    ];
    io.on('connection', (socket) => this.connected(socket as LiveSocket));
  }

  private connected(socket: LiveSocket) {
    let watchedVod: string | null = null; // its room
    socket.on('vod:watch', (payload: unknown, ack?: Ack<{ vod: VodProgress | null }>) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      this.watchVod(socket, payload, watchedVod).then(
        ({ room, vod: v }) => {
          watchedVod = room;
          reply({ ok: true, vod: v });
        },
        (err: unknown) => {
          const refusal: ChatRefusal =
            err && typeof err === 'object' && 'refusal' in err
              ? (err as Refusal).refusal
              : err instanceof z.ZodError
                ? { code: 'invalid', message: 'Invalid vod:watch: send { vodId } with a VoD id, or null.' }
                : { code: 'invalid', message: 'The watch could not be handled.' };
          if (!(err && typeof err === 'object' && 'refusal' in err) && !(err instanceof z.ZodError)) this.deps.log.error({ err }, 'live state: vod:watch failed');
          reply({ ok: false, error: refusal });
        },
      );
    });
    let watched = new Set<string>(); // rooms
    socket.on('watch', (payload: unknown, ack?: Ack<{ channels: LiveSnapshot[] }>) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      // the error boundary of one event: whatever fails ends as a refusal to this socket
      this.watch(socket, payload, watched).then(
        ({ rooms, channels }) => {
          watched = rooms;
          reply({ ok: true, channels });
        },
        (err: unknown) => {
          const refusal: ChatRefusal =
            err && typeof err === 'object' && 'refusal' in err
              ? (err as Refusal).refusal
              : err instanceof z.ZodError
                ? { code: 'invalid', message: `Invalid watch: ${err.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ')}`.slice(0, 300) }
                : isDatabaseUnavailable(err)
                  ? { code: 'unavailable', message: 'Live state cannot reach its database right now; try again in a few seconds.', retryAfterMs: DATABASE_RETRY_AFTER_MS }
                  : { code: 'invalid', message: 'The watch could not be handled.' };
          if (!(err && typeof err === 'object' && 'refusal' in err) && !(err instanceof z.ZodError) && !isDatabaseUnavailable(err)) this.deps.log.error({ err }, 'live state: watch failed');
          reply({ ok: false, error: refusal });
        },
      );
    });
  }

  /** Puts the socket in the rooms of exactly these channels (and the directory's if asked), and says how each is now. */
  private async watch(socket: LiveSocket, payload: unknown, before: Set<string>): Promise<{ rooms: Set<string>; channels: LiveSnapshot[] }> {
    if (payload && typeof payload === 'object' && Array.isArray((payload as { channels?: unknown }).channels) && (payload as { channels: unknown[] }).channels.length > MAX_WATCHED) {
      throw refuse({ code: 'too-many-rooms', message: `A connection watches at most ${MAX_WATCHED} channels.` });
    }
    const { channels: slugs, directory } = watchSchema.parse(payload);
    // the budgets first: a flood of watches costs no query
    for (const [limit, key, message] of [
      [this.perSocket, socket.id, 'You are changing what you watch too quickly.'],
      [this.perAddress, socket.data.address ?? socket.handshake.address, 'Too many watches from your address.'],
    ] as const) {
      const took = await limit.take(key);
      if (!took.ok) throw refuse({ code: 'rate-limited', message, retryAfterMs: took.retryAfterMs });
    }
    const unique = [...new Set(slugs)];
    // rooms by address, joined before the state is read: an event after this read reaches the socket after its
    // acknowledgement, and one before it is in what the acknowledgement says (the SFU writes before it publishes)
    const rooms = new Set(unique.map(roomOf));
    if (directory) rooms.add(DIRECTORY);
    for (const room of before) if (!rooms.has(room)) await socket.leave(room);
    await socket.join([...rooms]);
    const rows = unique.length
      ? await this.deps.database.db
          .select({
            slug: channel.slug,
            title: channel.title,
            sessionId: liveSession.id,
            source: liveSession.source,
            startedAt: liveSession.startedAt,
            viewers: liveSession.viewers,
            liveTitle: liveSession.title,
            liveCategory: liveSession.category,
          })
          .from(channel)
          .leftJoin(liveSession, and(eq(liveSession.channelId, channel.id), isNull(liveSession.endedAt)))
          .where(inArray(channel.slug, unique))
      : [];
    const channels = rows.map(
      (r): LiveSnapshot => ({
        slug: r.slug,
        title: r.title,
        live:
          r.sessionId && r.source && r.startedAt
            ? {
                sessionId: r.sessionId,
                source: r.source,
                startedAt: r.startedAt.toISOString(),
                viewers: r.viewers ?? 0,
                title: r.liveTitle ?? '',
                category: r.liveCategory ?? '',
                previewUrl: `/hls/${previewKey(r.sessionId)}`,
              }
            : null,
      }),
    );
    return { rooms, channels };
  }

  /**
   * Puts the socket in the room of this one VoD (leaving the one it watched), when it may see it — the rules of GET
   * /api/vods/{id}: a failed recording is its channel owner's and admins' only — and says how it is now.
   */
  private async watchVod(socket: LiveSocket, payload: unknown, before: string | null): Promise<{ room: string | null; vod: VodProgress | null }> {
    const { vodId } = vodWatchSchema.parse(payload);
    const took = await this.perSocket.take(socket.id);
    if (!took.ok) throw refuse({ code: 'rate-limited', message: 'You are changing what you watch too quickly.', retryAfterMs: took.retryAfterMs });
    if (before) await socket.leave(before);
    if (!vodId) return { room: null, vod: null };
    const [row] = await this.deps.database.db
      .select({ status: vod.status, renditions: vod.renditions, visibility: vod.visibility, publishAt: vod.publishAt, ownerId: channel.ownerId, subscribersOnlyLive: channel.subscribersOnlyLive })
      .from(vod)
      .innerJoin(channel, eq(channel.id, vod.channelId))
      .where(eq(vod.id, vodId))
      .limit(1);
    const user = (socket.data as { user?: Viewer | null }).user ?? undefined;
    // the rule of GET /api/vods/{id}: a private, scheduled or failed VoD exists for its owner and admins only
    if (!row || vodAccess(row, row, user) === 'hidden') throw refuse({ code: 'not-found', message: 'That VoD does not exist.' });
    // joined before the answer: a progress event after this read reaches the socket after its acknowledgement
    await socket.join(vodRoom(vodId));
    return { room: vodRoom(vodId), vod: progressView({ vodId, status: row.status, renditions: row.renditions }) };
  }

  /** Whether a socket of this process is in any of these rooms (no query is made for a channel nobody here watches). */
  private watchedHere(...rooms: string[]): boolean {
    const here = this.io.of('/').adapter.rooms;
    return rooms.some((r) => (here.get(r)?.size ?? 0) > 0);
  }

  /** A broadcast started, or was renamed while on air: its watchers get it as it is now (title, category, viewers). */
  private async wentLive(e: { channelId: string; slug: string; sessionId: string }) {
    if (!this.watchedHere(roomOf(e.slug), DIRECTORY)) return;
    const [row] = await this.deps.database.db
      .select({
        title: channel.title,
        source: liveSession.source,
        startedAt: liveSession.startedAt,
        viewers: liveSession.viewers,
        liveTitle: liveSession.title,
        category: liveSession.category,
        endedAt: liveSession.endedAt,
      })
      .from(liveSession)
      .innerJoin(channel, eq(channel.id, liveSession.channelId))
      .where(eq(liveSession.id, e.sessionId))
      .limit(1);
    if (!row || row.endedAt) return; // ended meanwhile: its offline event says so
    const live = {
      sessionId: e.sessionId,
      source: row.source,
      startedAt: row.startedAt.toISOString(),
      viewers: row.viewers ?? 0,
      title: row.liveTitle,
      category: row.category,
      previewUrl: `/hls/${previewKey(e.sessionId)}`,
    };
    this.io.local.to(roomOf(e.slug)).to(DIRECTORY).emit('channel:live', { slug: e.slug, title: row.title, live });
  }

  private async wentOffline(e: { channelId: string; slug: string; sessionId: string }) {
    const window = this.viewerWindows.get(e.channelId);
    if (window) clearTimeout(window.timer);
    this.viewerWindows.delete(e.channelId); // a count after the end would say it is still watched
    if (!this.watchedHere(roomOf(e.slug), DIRECTORY)) return;
    const [rec] = await this.deps.database.db.select({ id: vod.id }).from(vod).where(eq(vod.liveSessionId, e.sessionId)).limit(1);
    this.io.local.to(roomOf(e.slug)).to(DIRECTORY).emit('channel:offline', { slug: e.slug, vodId: rec?.id ?? null });
  }

  private async vodReady(e: { vodId: string; channelId: string }) {
    const [row] = await this.deps.database.db
      .select({ title: vod.title, slug: channel.slug })
      .from(vod)
      .innerJoin(channel, eq(channel.id, vod.channelId))
      .where(eq(vod.id, e.vodId))
      .limit(1);
    if (row && this.watchedHere(roomOf(row.slug))) this.io.local.to(roomOf(row.slug)).emit('vod:ready', { slug: row.slug, vodId: e.vodId, title: row.title });
  }

  /** Sends a count at once, then at most one (the latest) per VIEWERS_EVERY_MS while they keep changing. */
  private viewers(channelId: string, slug: string, count: number) {
    const window = this.viewerWindows.get(channelId);
    if (window) {
      window.pending = { slug, count };
      return;
    }
    const send = (s: string, n: number) => {
      if (this.watchedHere(roomOf(s))) this.io.local.to(roomOf(s)).emit('channel:viewers', { slug: s, count: n });
    };
    send(slug, count);
    const open = (): ViewerWindow => {
      const w: ViewerWindow = {
        pending: null,
        timer: setTimeout(() => {
          if (this.viewerWindows.get(channelId) !== w) return;
          if (!w.pending) return void this.viewerWindows.delete(channelId);
          send(w.pending.slug, w.pending.count);
          this.viewerWindows.set(channelId, open());
        }, VIEWERS_EVERY_MS),
      };
      return w;
    };
    this.viewerWindows.set(channelId, open());
  }

  close() {
    for (const off of this.unsubscribe) off();
    for (const w of this.viewerWindows.values()) clearTimeout(w.timer);
    this.viewerWindows.clear();
  }
}
