// The media plane's front: rooms by channel, WHIP ingest and WHEP playback (RFC 9725 and the WHEP draft) over HTTP.
// It reads channels and stream keys through shared/ and announces broadcasts on the bus; it never imports api/.
import { eq, isNull } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import type { Config } from '../shared/config.ts';
import type { EventBus, RecordedTrack } from '../shared/bus.ts';
import { channel, liveSession, type Db } from '../shared/db/index.ts';
import { AppError, conflict, notFound, unsupportedMedia } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { verifyStreamKey } from '../shared/stream-keys.ts';
import { Room } from './Room.ts';
import { parseOffer } from './sdp.ts';
import { RtmpServer, type IngestInfo, type RtmpHost } from './rtmp/server.ts';
import { WorkerPool } from './WorkerPool.ts';
import type { types as ms } from 'mediasoup';

export type SfuDeps = {
  config: Config;
  db: Db;
  bus: EventBus;
  log: Logger;
  /** Who may watch: throws (401/403 AppError) when the request's viewer may not play the channel. Everyone when unset. */
  admitViewer?: (request: Request, slug: string) => Promise<void>;
};

const MAX_SDP_BYTES = 64 * 1024;

export class Sfu {
  private readonly rooms = new Map<string, Room>();
  /** channel id → the stream key id its current publisher used (revoking that key ends the broadcast) */
  private readonly keys = new Map<string, string>();
  private readonly unsubscribe: (() => void)[] = [];
  readonly app: Hono;

  private constructor(
    private readonly deps: SfuDeps,
    readonly pool: WorkerPool,
  ) {
    this.app = this.routes();
    this.unsubscribe.push(
      deps.bus.subscribe('streamkey.revoked', ({ channelId, keyId }) => {
        if (this.keys.get(channelId) === keyId) this.roomById(channelId)?.close('stream key revoked');
      }),
      deps.bus.subscribe('channel.deleted', ({ channelId }) => this.roomById(channelId)?.close('channel deleted')),
      // the recorder's requests (it may run in another process: everything goes over the bus)
      deps.bus.subscribe('recorder.attach', ({ requestId, sessionId, slug, targets }) => {
        const room = this.room(slug);
        const reply = (tracks: RecordedTrack[], error?: string) => void deps.bus.publish('recorder.attached', { requestId, tracks, ...(error ? { error } : {}) });
        if (!room || room.sessionId !== sessionId) return reply([], 'that broadcast is not live here');
        const onMedia = (flowing: boolean) => void deps.bus.publish('recorder.media', { sessionId, flowing });
        room.attachRecorder(targets, onMedia).then(reply, (err: Error) => reply([], err.message));
      }),
      deps.bus.subscribe('recorder.resume', ({ sessionId }) => void this.roomBySession(sessionId)?.resumeRecording().catch((err) => deps.log.warn({ err }, 'could not resume recording'))),
      deps.bus.subscribe('recorder.keyframe', ({ sessionId }) => void this.roomBySession(sessionId)?.recordingKeyframe().catch(() => undefined)),
    );
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
    const pool = await WorkerPool.create({ count: rtc.workers, minPort: rtc.minPort, maxPort: rtc.maxPort, log: deps.log });
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

  room(slug: string): Room | undefined {
    const r = this.rooms.get(slug);
    return r && !r.isClosed ? r : undefined;
  }

  private roomBySession(sessionId: string): Room | undefined {
    return [...this.rooms.values()].find((r) => r.sessionId === sessionId && !r.isClosed);
  }

  private roomById(channelId: string): Room | undefined {
    return [...this.rooms.values()].find((r) => r.channelId === channelId);
  }

  private async openRoom(ch: { id: string; slug: string }, keyId: string): Promise<Room> {
    const { router, release } = await this.pool.createRouter();
    const edge = (mediaCodecs: ms.RtpCodecCapability[]) => this.pool.createRouter({ mediaCodecs, avoid: router });
    const room = new Room(ch.id, ch.slug, router, release, edge, { listenIp: this.deps.config.rtc.listenIp, announcedIp: this.deps.config.rtc.announcedIp, publishGraceMs: this.deps.config.rtc.publishGraceMs }, this.deps.log);
    this.rooms.set(ch.slug, room);
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
      if (room.sessionId) void this.deps.bus.publish('channel.resumed', { channelId: ch.id, slug: ch.slug, sessionId: room.sessionId });
    });
    room.once('close', () => {
      if (this.rooms.get(ch.slug) === room) this.rooms.delete(ch.slug);
      if (this.keys.get(ch.id) === keyId) this.keys.delete(ch.id);
      const sessionId = room.sessionId;
      if (!sessionId) return; // never went live
      const reason = room.endReason ?? 'ended';
      void (async () => {
        await this.deps.db
          .update(liveSession)
          .set({ endedAt: new Date(), endReason: reason, viewers: 0, peakViewers: room.peakViewers })
          .where(eq(liveSession.id, sessionId))
          .catch((err) => this.deps.log.error({ err }, 'could not end the live session row'));
        await this.deps.bus.publish('channel.offline', { channelId: ch.id, slug: ch.slug, sessionId, reason, peakViewers: room.peakViewers });
      })();
    });
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
    const existing = this.room(key.slug);
    const room = existing ?? (await this.openRoom({ id: key.channelId, slug: key.slug }, key.keyId));
    try {
      const result = await publish(room);
      this.keys.set(key.channelId, key.keyId);
      if (!existing) {
        room.ingest = ingest;
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
        if (this.room(key.slug)?.publisherId) throw conflict('This channel is already live from another session.');
        return key;
      },
      start: (key, tracks, ingest) => this.goLive(key, ingest, (room) => room.publishPlain(tracks)),
    };
  }

  private async sdpBody(c: Context): Promise<ReturnType<typeof parseOffer>> {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/sdp') throw unsupportedMedia(`Send the SDP offer as application/sdp, not "${type || 'nothing'}".`);
    const text = await c.req.text();
    if (text.length > MAX_SDP_BYTES) throw new AppError('payload-too-large', `SDP offers may be at most ${MAX_SDP_BYTES} bytes.`);
    return parseOffer(text);
  }

  private routes(): Hono {
    const app = new Hono();
    app.use(
      '*',
      cors({
        origin: '*',
        allowMethods: ['POST', 'DELETE', 'PATCH', 'OPTIONS'],
        allowHeaders: ['Authorization', 'Content-Type', 'If-Match'],
        exposeHeaders: ['Location', 'ETag', 'Link', 'Accept-Patch'],
      }),
    );

    const sdpReply = (c: Context, kind: 'whip' | 'whep', slug: string, sessionId: string, answer: string) =>
      c.body(answer, 201, {
        'Content-Type': 'application/sdp',
        Location: `/${kind}/${slug}/${sessionId}`,
        ETag: `"${sessionId}"`,
      });

    // WHIP ingest: the stream key is the bearer token.
    app.post('/whip/:slug', async (c) => {
      const slug = c.req.param('slug');
      const auth = c.req.header('authorization') ?? '';
      const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
      const key = token ? await verifyStreamKey(this.deps.db, token) : null;
      if (!key || key.slug !== slug) {
        c.header('WWW-Authenticate', 'Bearer realm="glint-whip"');
        this.deps.log.warn({ channel: slug, reason: token ? 'unknown, revoked or other-channel stream key' : 'no bearer token' }, 'WHIP publish refused');
        throw new AppError('unauthorized', token ? 'That stream key is not valid for this channel.' : 'Send the stream key as "Authorization: Bearer <key>".');
      }
      const offer = await this.sdpBody(c);
      const { sessionId, answer } = await this.goLive(key, { source: 'whip' }, (room) => room.publish(offer));
      return sdpReply(c, 'whip', slug, sessionId, answer);
    });

    app.delete('/whip/:slug/:session', (c) => {
      const room = this.room(c.req.param('slug'));
      if (!room?.endPublisher(c.req.param('session'), 'DELETE')) throw notFound('That WHIP session');
      return c.body(null, 200);
    });

    // WHEP playback: anonymous for public channels; subscriber-only ones admit whom admitViewer admits.
    app.post('/whep/:slug', async (c) => {
      const slug = c.req.param('slug');
      const room = this.room(slug);
      if (room) await this.deps.admitViewer?.(c.req.raw, slug); // who, before what they sent
      const offer = await this.sdpBody(c);
      if (!room) {
        const [exists] = await this.deps.db.select({ id: channel.id }).from(channel).where(eq(channel.slug, slug)).limit(1);
        throw exists ? notFound(`A live broadcast on "${slug}" (the channel is offline)`) : notFound(`Channel "${slug}"`);
      }
      const { sessionId, answer } = await room.view(offer);
      return sdpReply(c, 'whep', slug, sessionId, answer);
    });

    app.delete('/whep/:slug/:session', (c) => {
      const room = this.room(c.req.param('slug'));
      if (!room?.leave(c.req.param('session'))) throw notFound('That WHEP session');
      return c.body(null, 200);
    });

    // Where to send a broadcast: the studio shows these next to the stream key.
    app.get('/api/ingest', (c) =>
      c.json({ whip: `${this.deps.config.publicUrl}/whip/{channel}`, rtmp: this.rtmp?.url ?? null }, 200, { 'Cache-Control': 'no-store' }),
    );

    // No trickle ICE or ICE restarts: the server is ICE-lite and its answer carries every candidate (RFC 9725 §4.3).
    app.patch('/:kind{whip|whep}/:slug/:session', (c) => c.body(null, 405, { Allow: 'DELETE, OPTIONS' }));
    return app;
  }

  async close(): Promise<void> {
    for (const off of this.unsubscribe) off();
    await this.rtmp?.server.close();
    for (const room of [...this.rooms.values()]) room.close();
    this.pool.close();
  }
}
