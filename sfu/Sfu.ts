// The media plane's front: rooms by channel, WHIP ingest and WHEP playback (RFC 9725 and the WHEP draft) over HTTP.
// It reads channels and stream keys through shared/ and announces broadcasts on the bus; it never imports api/.
import { timingSafeEqual } from 'node:crypto';
import { eq, isNull } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Config } from '../shared/config.ts';
import type { EventBus } from '../shared/bus.ts';
import { answer, RECORDER_GONE_MS, RECORDER_HEARTBEAT_MS } from '../shared/recorder-protocol.ts';
import { clientAddress } from '../shared/client-address.ts';
import { channel, liveSession, type Db } from '../shared/db/index.ts';
import { AppError, conflict, invalidState, notFound, rateLimited, tooLarge, unavailable, unsupportedMedia } from '../shared/errors.ts';
import { ConcurrencyCap, RateLimit } from '../shared/limits.ts';
import type { Logger } from '../shared/logger.ts';
import { hashStreamKey, verifyStreamKey } from '../shared/stream-keys.ts';
import { mediaFailure } from './media-failure.ts';
import { Room } from './Room.ts';
import { parseOffer } from './sdp.ts';
import type { IngestInfo } from './ingest.ts';
import { RtmpServer, type RtmpHost } from './rtmp/server.ts';
import { WorkerPool } from './WorkerPool.ts';
import type { types as ms } from 'mediasoup';

export type SfuDeps = {
  config: Config;
  db: Db;
  bus: EventBus;
  log: Logger;
  /** Who may watch: throws (401/403 AppError) when the request's viewer may not play the channel. Everyone when unset. */
  admitViewer?: (request: Request, channelId: string) => Promise<void>;
};

const MAX_SDP_BYTES = 64 * 1024;
/** A refused body is read on (and thrown away) up to this much, so a client still sending sees the 413, not a reset. */
const DRAIN_BYTES = 1024 * 1024;
/** How long a viewer whose address holds its share of sessions waits: about when an unconnected one is dropped. */
const SESSIONS_RETRY_MS = 15_000;

/** Discards up to DRAIN_BYTES more of a body, then stops reading it. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let seen = 0;
  try {
    while (seen <= DRAIN_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // the client went away
  }
}

/**
 * A request body of at most `max` bytes, counted while it is read: a larger Content-Length is refused before
 * reading, a chunked body as soon as it passes `max` (413).
 */
async function readBounded(req: Request, max: number): Promise<string> {
  const reader = req.body?.getReader();
  if (!reader) return '';
  const refuse = async () => {
    await drain(reader);
    return tooLarge(`SDP offers may be at most ${max} bytes.`);
  };
  if (Number(req.headers.get('content-length') ?? 0) > max) throw await refuse();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) throw await refuse();
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The token of an `Authorization: Bearer <token>` header. */
const bearerOf = (c: Context) => /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];

/** Constant-time comparison of two hex digests. */
function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Why a room whose router lived on a mediasoup worker that died was closed. */
export const WORKER_DIED = 'media worker died';

export class Sfu {
  /** rooms by channel id: a channel keeps its room through a rename */
  private readonly rooms = new Map<string, Room>();
  /** slug → channel id for channels with a room here, kept current by channel.updated (and healed on a miss) */
  private readonly slugs = new Map<string, string>();
  /** channel id → the stream key id its current publisher used (revoking that key ends the broadcast) */
  private readonly keys = new Map<string, string>();
  private readonly unsubscribe: (() => void)[] = [];
  /** channels whose room is being opened (its router created) right now */
  private readonly opening = new Set<string>();
  /** channel id → the end of its last broadcast being written (row ended, channel.offline sent) */
  private readonly ending = new Map<string, Promise<void>>();
  /** WHEP offers per address per minute */
  private readonly whepOffers: RateLimit;
  /** WHEP sessions held per address, and by everyone on this SFU */
  private readonly whepSessions: ConcurrencyCap;
  /** failed WHIP authorizations per address per minute (stream-key guessing) */
  private readonly whipFailures: RateLimit;
  /** session id → when its recorder last attached or sent a heartbeat naming it */
  private readonly recorderSeen = new Map<string, number>();
  /** sessions whose recording was detached for silence: a heartbeat naming one asks its recorder to attach again */
  private readonly recorderDropped = new Set<string>();
  private readonly recorderWatch: NodeJS.Timeout;
  readonly app: Hono;

  private constructor(
    private readonly deps: SfuDeps,
    readonly pool: WorkerPool,
  ) {
    const caps = deps.config.sfu;
    this.whepOffers = new RateLimit({ name: 'whep-offers', points: caps.whepOffersPerMinute, seconds: 60 });
    this.whepSessions = new ConcurrencyCap({ perKey: caps.whepSessionsPerAddress, total: caps.maxViewers });
    this.whipFailures = new RateLimit({ name: 'whip-auth-failures', points: caps.whipAuthFailuresPerMinute, seconds: 60 });
    this.app = this.routes();
    this.unsubscribe.push(
      deps.bus.subscribe('streamkey.revoked', ({ channelId, keyId }) => {
        if (this.keys.get(channelId) === keyId) this.roomById(channelId)?.close('stream key revoked');
      }),
      deps.bus.subscribe('channel.deleted', ({ channelId }) => this.roomById(channelId)?.close('channel deleted')),
      // a live channel renamed: its WHEP URL moves with it at once, not at its next broadcast
      deps.bus.subscribe('channel.updated', ({ channelId, slug }) => {
        if (this.rooms.has(channelId)) this.name(channelId, slug);
      }),
      // the recorder's requests (it may run in another process: everything goes over the bus)
      answer(deps.bus, 'recorder.attach', async ({ sessionId, targets }) => {
        const room = this.roomBySession(sessionId);
        if (!room || room.sessionId !== sessionId) throw new Error('that broadcast is not live here');
        const onMedia = (flowing: boolean) => void deps.bus.publish('recorder.media', { sessionId, flowing });
        this.recorderSeen.set(sessionId, Date.now());
        this.recorderDropped.delete(sessionId);
        return { tracks: await room.attachRecorder(sessionId, targets, onMedia) };
      }, { tracks: [] }),
      // the recording stopped (its broadcast may go on): no RTP to a recorder that no longer listens, at once
      answer(deps.bus, 'recorder.detach', async ({ sessionId }) => {
        this.recorderSeen.delete(sessionId);
        this.recorderDropped.delete(sessionId);
        this.roomBySession(sessionId)?.detachRecorder();
        return {};
      }, {}),
      deps.bus.subscribe('recorder.resume', ({ sessionId }) => void this.roomBySession(sessionId)?.resumeRecording().catch((err) => deps.log.warn({ err }, 'could not resume recording'))),
      deps.bus.subscribe('recorder.keyframe', ({ sessionId }) => void this.roomBySession(sessionId)?.recordingKeyframe().catch(() => undefined)),
      deps.bus.subscribe('recorder.heartbeat', ({ sessions }) => {
        for (const id of sessions) {
          if (this.recorderSeen.has(id)) this.recorderSeen.set(id, Date.now());
          else if (this.recorderDropped.delete(id) && this.roomBySession(id)) void deps.bus.publish('recorder.detached', { sessionId: id });
        }
      }),
    );
    this.recorderWatch = setInterval(() => this.detachGoneRecorders(), RECORDER_HEARTBEAT_MS);
    this.recorderWatch.unref();
  }

  /** A recorder that stopped sending heartbeats died: its consumers and plain transports close (RTP to nobody). */
  private detachGoneRecorders() {
    const now = Date.now();
    for (const [sessionId, seen] of this.recorderSeen) {
      const room = this.roomBySession(sessionId);
      if (!room || !room.recorderAttached) this.recorderSeen.delete(sessionId);
      else if (now - seen > RECORDER_GONE_MS) {
        this.deps.log.warn({ session: sessionId, silentMs: now - seen }, 'the recorder went away; detaching it');
        room.detachRecorder();
        this.recorderSeen.delete(sessionId);
        this.recorderDropped.add(sessionId);
      }
    }
    for (const sessionId of this.recorderDropped) if (!this.roomBySession(sessionId)) this.recorderDropped.delete(sessionId);
  }

  static async create(deps: SfuDeps): Promise<Sfu> {
    const { rtc } = deps.config;
    // broadcasts this SFU held when it last stopped cannot still be live
    const stale = await deps.db
      .update(liveSession)
      .set({ endedAt: new Date(), endReason: 'sfu restarted', viewers: 0 })
      .where(isNull(liveSession.endedAt))
      .returning({ id: liveSession.id });
    if (stale.length) deps.log.warn({ sessions: stale.length }, 'ended live sessions left open by a previous run');
    const pool = await WorkerPool.create({
      count: rtc.workers, port: rtc.port, minPort: rtc.minPort, maxPort: rtc.maxPort, listenIp: rtc.listenIp, announcedIp: rtc.announcedIp, log: deps.log,
    });
    const sfu = new Sfu(deps, pool);
    const { rtmp } = deps.config;
    if (rtmp) {
      const server = new RtmpServer(sfu.rtmpHost(), deps.log.child({ svc: 'rtmp' }), rtmp);
      try {
        const port = await server.listen(rtmp.port, rtmp.host);
        sfu.rtmp = { server, port, url: rtmp.publicUrl ?? `rtmp://${new URL(deps.config.publicUrl).hostname}${port === 1935 ? '' : `:${port}`}/live` };
      } catch (err) {
        pool.close();
        throw new Error(`RTMP ingest cannot listen on ${rtmp.host}:${rtmp.port} (${(err as Error).message}); set RTMP_PORT, or RTMP_ENABLED=false`);
      }
    }
    return sfu;
  }

  /** RTMP ingest when enabled: its server, bound port and the URL streamers paste into OBS. */
  rtmp: { server: RtmpServer; port: number; url: string } | undefined;

  /** The open room of the channel now called `slug`. */
  room(slug: string): Room | undefined {
    const id = this.slugs.get(slug);
    return id === undefined ? undefined : this.roomById(id);
  }

  private roomBySession(sessionId: string): Room | undefined {
    return [...this.rooms.values()].find((r) => r.sessionId === sessionId && !r.isClosed);
  }

  private roomById(channelId: string): Room | undefined {
    const r = this.rooms.get(channelId);
    return r && !r.isClosed ? r : undefined;
  }

  /** Records the channel's current slug (dropping the one it had). */
  private name(channelId: string, slug: string): void {
    for (const [s, id] of this.slugs) if (id === channelId && s !== slug) this.slugs.delete(s);
    this.slugs.set(slug, channelId);
  }

  /** The slug the channel has now, as far as this SFU heard. */
  private slugOf(channelId: string): string | undefined {
    for (const [s, id] of this.slugs) if (id === channelId) return s;
    return undefined;
  }

  /**
   * The open room of the channel called `slug`, when a bus event has not told us yet (another process renamed it a
   * moment ago): one lookup on the unique slug index. `exists` says whether such a channel exists at all.
   */
  private async resolve(slug: string): Promise<{ room: Room | undefined; exists: boolean }> {
    const known = this.room(slug);
    if (known) return { room: known, exists: true };
    const [ch] = await this.deps.db.select({ id: channel.id }).from(channel).where(eq(channel.slug, slug)).limit(1);
    const room = ch && this.roomById(ch.id);
    if (room) this.name(ch.id, slug);
    return { room, exists: !!ch };
  }

  /**
   * The room holding a WHIP/WHEP resource named in a Location we handed out: under the channel's slug now, or under
   * the one it went live with (a publisher or viewer keeps the URL it got across a rename; the resource token, and
   * for WHIP the stream key, are what authorize it, not the name).
   */
  private async resourceRoom(slug: string, holds: (room: Room) => boolean): Promise<Room | undefined> {
    const { room } = await this.resolve(slug);
    if (room && holds(room)) return room;
    return [...this.rooms.values()].find((r) => !r.isClosed && r.slug === slug && holds(r));
  }

  private async openRoom(ch: { id: string; slug: string }, keyId: string): Promise<Room> {
    const home = await this.pool.createRouter().catch((err) => {
      throw mediaFailure(err, this.deps.log, 'room router');
    });
    // a router on a worker that dies takes the room with it: the close cascades (row ended, channel.offline) as always
    const onWorker = (placed: { router: ms.Router }) => placed.router.once('workerclose', () => room.close(WORKER_DIED));
    const edge = async (mediaCodecs: ms.RtpCodecCapability[], avoid: number[]) => {
      const placed = await this.pool.createRouter({ mediaCodecs, avoid });
      onWorker(placed);
      return placed;
    };
    const { rtc, sfu } = this.deps.config;
    const room: Room = new Room(ch.id, ch.slug, home, edge, {
      listenIp: rtc.listenIp, publishGraceMs: rtc.publishGraceMs, maxViewers: sfu.viewersPerChannel, maxEdges: sfu.edgeRoutersPerChannel,
    }, this.deps.log);
    onWorker(home);
    this.rooms.set(ch.id, room);
    this.name(ch.id, ch.slug);
    this.keys.set(ch.id, keyId);
    room.on('viewers-changed', (viewers) => {
      if (!room.sessionId) return;
      void this.deps.db
        .update(liveSession)
        .set({ viewers, peakViewers: room.peakViewers })
        .where(eq(liveSession.id, room.sessionId))
        .catch((err) => this.deps.log.warn({ err }, 'could not record the viewer count'));
    });
    room.on('publisher-back', () => {
      if (room.sessionId) void this.deps.bus.publish('channel.resumed', { channelId: ch.id, slug: this.slugOf(ch.id) ?? ch.slug, sessionId: room.sessionId });
    });
    room.once('close', () => {
      const slug = this.slugOf(ch.id) ?? ch.slug;
      if (this.rooms.get(ch.id) === room) {
        this.rooms.delete(ch.id);
        this.slugs.delete(slug);
      }
      if (this.keys.get(ch.id) === keyId) this.keys.delete(ch.id);
      const sessionId = room.sessionId;
      if (!sessionId) return; // never went live
      const reason = room.endReason ?? 'ended';
      const ended = (async () => {
        await this.deps.db
          .update(liveSession)
          .set({ endedAt: new Date(), endReason: reason, viewers: 0, peakViewers: room.peakViewers })
          .where(eq(liveSession.id, sessionId))
          .catch((err) => this.deps.log.error({ err }, 'could not end the live session row'));
        await this.deps.bus.publish('channel.offline', { channelId: ch.id, slug, sessionId, reason, peakViewers: room.peakViewers }).catch((err) => this.deps.log.error({ err }, 'could not announce the end of a broadcast'));
      })();
      this.ending.set(ch.id, ended);
      void ended.finally(() => {
        if (this.ending.get(ch.id) === ended) this.ending.delete(ch.id);
      });
    });
    if (home.router.closed) room.close(WORKER_DIED); // its worker died between createRouter and here
    return room;
  }

  /**
   * Starts a broadcast, or resumes one whose publisher dropped within the grace period (same live session): opens
   * the room if needed, lets `publish` attach the publisher, records the live session and announces it.
   */
  private async goLive<T extends { sessionId: string }>(
    key: { channelId: string; slug: string; keyId: string },
    ingest: IngestInfo | { source: 'whip' },
    publish: (room: Room) => Promise<T>,
  ): Promise<T & { room: Room }> {
    const existing = this.roomById(key.channelId);
    // a second publisher racing the first one's room into existence would open a second room for the channel
    if (!existing && this.opening.has(key.channelId)) throw conflict('This channel is already going live from another session.');
    if (!existing) this.opening.add(key.channelId);
    else this.name(key.channelId, key.slug); // the key was just read with the channel's current slug
    let room: Room;
    try {
      room = existing ?? (await this.openRoom({ id: key.channelId, slug: key.slug }, key.keyId));
    } finally {
      if (!existing) this.opening.delete(key.channelId);
    }
    // what the broadcast comes from is known before its publisher is attached (a room with a publisher always says)
    if (!existing) room.ingest = ingest;
    try {
      const result = await publish(room);
      this.keys.set(key.channelId, key.keyId);
      if (!existing) {
        // the channel's previous broadcast may have ended a moment ago: its row is ended and channel.offline sent
        // before this one's row and channel.live, so the one-live-session index holds and listeners (the recorder)
        // hear the two broadcasts in the order they happened
        await this.ending.get(key.channelId);
        if (room.isClosed) throw invalidState('This broadcast ended while it was starting.');
        await this.deps.db.insert(liveSession).values({ id: result.sessionId, channelId: key.channelId, source: ingest.source, codecs: room.codecs, startedAt: room.startedAt });
        await this.deps.bus.publish('channel.live', {
          channelId: key.channelId, slug: key.slug, sessionId: result.sessionId, source: ingest.source, codecs: room.codecs, startedAt: room.startedAt.toISOString(),
        });
      }
      return { ...result, room };
    } catch (err) {
      if (!existing) room.close();
      throw err;
    }
  }

  /** RTMP ingest's view of the SFU: the key check and going live with the bridge's RTP tracks. */
  private rtmpHost(): RtmpHost {
    return {
      authorize: async (streamKey) => {
        const key = await verifyStreamKey(this.deps.db, streamKey);
        if (!key) throw new AppError('unauthorized', 'That stream key is not valid (unknown or revoked).');
        if (this.roomById(key.channelId)?.publisherId) throw conflict('This channel is already live from another session.');
        return key;
      },
      start: (key, tracks, ingest) => this.goLive(key, ingest, (room) => room.publishPlain(tracks)),
    };
  }

  private async sdpBody(c: Context): Promise<ReturnType<typeof parseOffer>> {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/sdp') throw unsupportedMedia(`Send the SDP offer as application/sdp, not "${type || 'nothing'}".`);
    return parseOffer(await readBounded(c.req.raw, MAX_SDP_BYTES));
  }

  /** The client's address (X-Forwarded-For believed only from TRUSTED_PROXIES), for per-address caps. */
  private address(c: Context): string {
    let peer: string | undefined;
    try {
      peer = getConnInfo(c).remote.address;
    } catch {
      peer = undefined; // not on a Node socket (app.request in a test)
    }
    return clientAddress(peer, c.req.header('x-forwarded-for'), this.deps.config.trustedProxies);
  }

  /**
   * WHIP credentials are checked only while the address has failures left this minute (429 after): taking 0 points
   * reports whether the budget is already exceeded without spending any.
   */
  private async checkGuesses(address: string): Promise<void> {
    const left = await this.whipFailures.take(address, 0);
    if (!left.ok) throw rateLimited('Too many wrong stream keys from your address; wait before trying again.', left.retryAfterMs);
  }

  /** A wrong stream key: 401, or 429 once the address has used up its failures. */
  private async refuseKey(c: Context, address: string, detail: string, counted: boolean): Promise<never> {
    if (counted) {
      const left = await this.whipFailures.take(address);
      if (!left.ok) throw rateLimited('Too many wrong stream keys from your address; wait before trying again.', left.retryAfterMs);
    }
    c.header('WWW-Authenticate', 'Bearer realm="glint-whip"');
    throw new AppError('unauthorized', detail);
  }

  private routes(): Hono {
    const app = new Hono();
    const whipWhepCors = cors({
      origin: '*',
      allowMethods: ['POST', 'DELETE', 'PATCH', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type', 'If-Match'],
      exposeHeaders: ['Location', 'Link', 'Accept-Patch', 'Retry-After'],
    });
    app.use('/whip/*', whipWhepCors);
    app.use('/whep/*', whipWhepCors);

    // The Location's last segment is the session's resource token (random, not the public live session id).
    const sdpReply = (c: Context, kind: 'whip' | 'whep', slug: string, resource: string, answer: string) =>
      c.body(answer, 201, { 'Content-Type': 'application/sdp', Location: `/${kind}/${slug}/${resource}` });

    // WHIP ingest: the stream key is the bearer token.
    app.post('/whip/:slug', async (c) => {
      const slug = c.req.param('slug');
      const address = this.address(c);
      await this.checkGuesses(address);
      const token = bearerOf(c);
      const key = token ? await verifyStreamKey(this.deps.db, token) : null;
      if (!key || key.slug !== slug) {
        this.deps.log.warn({ channel: slug, address, reason: token ? 'unknown, revoked or other-channel stream key' : 'no bearer token' }, 'WHIP publish refused');
        return this.refuseKey(c, address, token ? 'That stream key is not valid for this channel.' : 'Send the stream key as "Authorization: Bearer <key>".', !!token);
      }
      const offer = await this.sdpBody(c);
      const { resource, answer } = await this.goLive(key, { source: 'whip' }, (room) => room.publish(offer, hashStreamKey(token!)));
      return sdpReply(c, 'whip', slug, resource, answer);
    });

    /**
     * A WHIP session's resource: only its publisher may end it (RFC 9725 lets the server require the bearer token on
     * the resource too). Without a token → 401; a resource this channel does not have → 404; another token → 401.
     */
    const whipSession = async (c: Context) => {
      const address = this.address(c);
      await this.checkGuesses(address);
      const token = bearerOf(c);
      if (!token) return this.refuseKey(c, address, 'Send the stream key that started this session as "Authorization: Bearer <key>".', false);
      const resource = c.req.param('resource')!;
      const room = await this.resourceRoom(c.req.param('slug')!, (r) => !!r.whipSession(resource));
      const session = room?.whipSession(resource);
      if (!room || !session) throw notFound('That WHIP session');
      if (!sameDigest(hashStreamKey(token), session.credential)) return this.refuseKey(c, address, 'That is not the stream key this session was started with.', true);
      return { room, sessionId: session.sessionId };
    };

    app.delete('/whip/:slug/:resource', async (c) => {
      const { room, sessionId } = await whipSession(c);
      room.endPublisher(sessionId, 'DELETE');
      return c.body(null, 200);
    });

    // No trickle ICE or ICE restarts: the server is ICE-lite and its answer carries every candidate (RFC 9725 §4.3).
    app.patch('/whip/:slug/:resource', async (c) => {
      await whipSession(c);
      return c.body(null, 405, { Allow: 'DELETE, OPTIONS' });
    });
    app.patch('/whep/:slug/:resource', (c) => c.body(null, 405, { Allow: 'DELETE, OPTIONS' }));

    // WHEP playback: anonymous for public channels; subscriber-only ones admit whom admitViewer admits. Every offer
    // counts against its address's budget; a session against its address's and the channel's share.
    app.post('/whep/:slug', async (c) => {
      const slug = c.req.param('slug');
      const address = this.address(c);
      const budget = await this.whepOffers.take(address);
      if (!budget.ok) throw rateLimited('Too many viewer requests from your address; wait a moment.', budget.retryAfterMs);
      const { room, exists } = await this.resolve(slug);
      if (room) await this.deps.admitViewer?.(c.req.raw, room.channelId); // who, before what they sent
      const offer = await this.sdpBody(c);
      if (!room) throw exists ? notFound(`A live broadcast on "${slug}" (the channel is offline)`) : notFound(`Channel "${slug}"`);
      const release = this.whepSessions.acquire(address);
      if (!release) {
        if (this.whepSessions.refusal(address) === 'total') throw unavailable('This server has as many viewers as it can take; try again shortly.', SESSIONS_RETRY_MS);
        throw rateLimited(`Your address already holds ${this.deps.config.sfu.whepSessionsPerAddress} viewer sessions; end one first.`, SESSIONS_RETRY_MS);
      }
      try {
        const { resource, answer } = await room.view(offer, release);
        return sdpReply(c, 'whep', slug, resource, answer);
      } catch (err) {
        release();
        throw err;
      }
    });

    // A viewer's resource token is its own credential: anonymous viewers have no other, and no one else learns it.
    app.delete('/whep/:slug/:resource', async (c) => {
      const resource = c.req.param('resource');
      // leave() is false on a room without that viewer, so the first room it succeeds on is the viewer's
      if (!(await this.resourceRoom(c.req.param('slug'), (r) => r.leave(resource)))) throw notFound('That WHEP session');
      return c.body(null, 200);
    });

    // Where to send a broadcast: the studio shows these next to the stream key (public: no secret in it).
    app.get('/api/ingest', (c) =>
      c.json({ whip: `${this.deps.config.publicUrl}/whip/{channel}`, rtmp: this.rtmp?.url ?? null }, 200, { 'Cache-Control': 'no-store' }),
    );
    return app;
  }

  async close(): Promise<void> {
    clearInterval(this.recorderWatch);
    for (const off of this.unsubscribe) off();
    await this.rtmp?.server.close();
    for (const room of [...this.rooms.values()]) room.close();
    this.pool.close();
  }
}
