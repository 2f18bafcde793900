// The media plane's front: rooms by channel, WHIP ingest and WHEP playback over HTTP (its routes in http.ts), the
// recorder's requests (shared/recorder-protocol.ts).
// It reads channels and stream keys through shared/ and announces broadcasts on the bus; it never imports api/.
import { and, eq, isNull, notInArray } from 'drizzle-orm';
import type { Hono } from 'hono';
import type { Config } from '../shared/config.ts';
import type { EventBus } from '../shared/bus.ts';
import { answer, RECORDER_GONE_MS, RECORDER_HEARTBEAT_MS } from '../shared/recorder-protocol.ts';
import { channel, liveSession, type Db } from '../shared/db/index.ts';
import { AppError, conflict, invalidState } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { verifyStreamKey } from '../shared/stream-keys.ts';
import { mediaFailure } from './media-failure.ts';
import { Room } from './Room.ts';
import { sfuRoutes } from './http.ts';
import type { IngestInfo } from './ingest.ts';
import { RtmpServer, type RtmpHost } from './rtmp/server.ts';
import { EdgePull } from './cluster/EdgePull.ts';
import type { SfuNodeState } from '../shared/sfu-nodes.ts';
import { WorkerPool } from './WorkerPool.ts';

export type SfuDeps = {
  config: Config;
  db: Db;
  bus: EventBus;
  log: Logger;
  /** Who may watch: throws (401/403 AppError) when the request's viewer may not play the channel. Everyone when unset. */
  admitViewer?: (request: Request, channelId: string) => Promise<void>;
  /** Channels other SFU nodes hold now (sfu/cluster/): their open live sessions are not this node's to end at start. */
  heldElsewhere?: () => Promise<string[]>;
  /** Edge pull (sfu/cluster/EdgePull.ts): this node's id and the registry, when viewers of broadcasts other nodes
   * receive are served here too. */
  edge?: { nodeId: string; nodes: () => Promise<SfuNodeState[]> };
  /** Whether a new broadcast of the channel may start here (sfu/cluster/SfuNode.ts): throws an AppError to refuse it
   * (the node drains; another node holds the channel). Asked for WHIP and RTMP alike, not for a publisher coming back
   * to its room here. Every broadcast may start when unset. */
  mayStart?: (channelId: string) => Promise<void>;
};

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
  /** session id → when its recorder last attached or sent a heartbeat naming it */
  private readonly recorderSeen = new Map<string, number>();
  /** sessions whose recording was detached for silence: a heartbeat naming one asks its recorder to attach again */
  private readonly recorderDropped = new Set<string>();
  private readonly recorderWatch: NodeJS.Timeout;
  readonly app: Hono;
  /** relays of broadcasts other nodes receive (edge pull), when on */
  readonly edge: EdgePull | undefined;
  /** why the broadcasts here end as soon as their publisher drops (a drain began: its reconnect goes elsewhere) */
  private draining: string | undefined;

  private constructor(
    private readonly deps: SfuDeps,
    readonly pool: WorkerPool,
  ) {
    this.app = sfuRoutes({
      config: deps.config,
      db: deps.db,
      log: deps.log,
      admitViewer: deps.admitViewer,
      goLive: (key, publish) => this.goLive(key, { source: 'whip' }, publish),
      resolve: (slug, admit) => this.resolve(slug, admit),
      resourceRoom: (slug, holds) => this.resourceRoom(slug, holds),
      rtmpUrl: () => this.rtmp?.url ?? null,
    });
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
      }, { tracks: [] }, ({ sessionId }) => !deps.heldElsewhere || !!this.roomBySession(sessionId)),
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
    if (deps.edge) {
      this.edge = new EdgePull({
        ...deps.edge, bus: deps.bus, log: deps.log, listenIp: deps.config.rtc.listenIp, announcedIp: deps.config.rtc.announcedIp,
        newRoom: (channelId, slug) => this.newRoom({ id: channelId, slug }),
        originRoom: (channelId) => this.roomById(channelId),
        remoteViewersChanged: (channelId) => {
          const room = this.roomById(channelId);
          if (room) this.announceViewers(room);
        },
      });
    }
    this.recorderWatch = setInterval(() => this.detachGoneRecorders(), RECORDER_HEARTBEAT_MS);
    this.recorderWatch.unref();
  }

  /** A recorder that stopped sending heartbeats died: its feed stops (no RTP to nobody). */
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
    const elsewhere = (await deps.heldElsewhere?.()) ?? [];
    const stale = await deps.db
      .update(liveSession)
      .set({ endedAt: new Date(), endReason: 'sfu restarted', viewers: 0 })
      .where(elsewhere.length ? and(isNull(liveSession.endedAt), notInArray(liveSession.channelId, elsewhere)) : isNull(liveSession.endedAt))
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
   * moment ago): one lookup on the unique slug index. `exists` says whether such a channel exists at all. With
   * `admit` (a viewer's offer) a broadcast another node receives is relayed here when edge pull is on, once `admit`
   * let the viewer in.
   */
  private async resolve(slug: string, admit?: (channelId: string) => Promise<void>): Promise<{ room: Room | undefined; exists: boolean }> {
    const known = this.room(slug);
    if (known) return { room: known, exists: true };
    const [ch] = await this.deps.db.select({ id: channel.id }).from(channel).where(eq(channel.slug, slug)).limit(1);
    const room = ch && this.roomById(ch.id);
    if (room) this.name(ch.id, slug);
    if (!room && ch && admit && this.edge) return { room: await this.edge.relay(ch.id, slug, () => admit(ch.id)), exists: true };
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
    return [...this.rooms.values(), ...(this.edge?.rooms() ?? [])].find((r) => !r.isClosed && r.slug === slug && holds(r));
  }

  /**
   * A room for the channel on a router of the least-loaded worker. Its router's worker dying takes the room with it
   * (for a broadcast received here the close cascades: row ended, channel.offline); a branch's worker dying drops only
   * the viewers seated there (Fanout.ts).
   */
  private async newRoom(ch: { id: string; slug: string }): Promise<Room> {
    const home = await this.pool.createRouter().catch((err) => {
      throw mediaFailure(err, this.deps.log, 'room router');
    });
    const { rtc, sfu } = this.deps.config;
    const room: Room = new Room(ch.id, ch.slug, home, this.pool, {
      listenIp: rtc.listenIp, publishGraceMs: rtc.publishGraceMs, viewersPerWorker: sfu.viewersPerChannel, maxNumberings: sfu.numberingsPerChannel,
    }, this.deps.log);
    home.router.once('workerclose', () => room.close(WORKER_DIED));
    return room;
  }

  private async openRoom(ch: { id: string; slug: string }, keyId: string): Promise<Room> {
    const room = await this.newRoom(ch);
    this.rooms.set(ch.id, room);
    this.name(ch.id, ch.slug);
    this.keys.set(ch.id, keyId);
    room.on('viewers-changed', () => this.announceViewers(room));
    // while this node drains, a publisher that drops does not get its grace period here: the broadcast ends now, so
    // that its reconnect starts it again on a node that stays
    room.on('publisher-lost', () => this.draining && room.close(this.draining));
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
    if (room.router.closed) room.close(WORKER_DIED); // its worker died between createRouter and here
    return room;
  }

  /**
   * The broadcast's viewer count changed (here, or on an edge relaying it): announced and recorded, with its peak. The
   * count is the viewers here and those watching through edges (this node's registry load counts only its own).
   */
  private announceViewers(room: Room): void {
    const { sessionId, channelId } = room;
    if (!sessionId) return;
    const viewers = room.viewerCount + (this.edge?.remoteViewers(channelId) ?? 0);
    room.peakViewers = Math.max(room.peakViewers, viewers);
    void this.deps.bus.publish('channel.viewers', { channelId, slug: this.slugOf(channelId) ?? room.slug, sessionId, viewers });
    void this.deps.db
      .update(liveSession)
      .set({ viewers, peakViewers: room.peakViewers })
      .where(eq(liveSession.id, sessionId))
      .catch((err) => this.deps.log.warn({ err }, 'could not record the viewer count'));
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
    if (!existing) await this.deps.mayStart?.(key.channelId);
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
        // every broadcast (WHIP or RTMP) starts with the title and category its channel set for the next one
        const [next] = await this.deps.db.select({ title: channel.nextTitle, category: channel.nextCategory }).from(channel).where(eq(channel.id, key.channelId)).limit(1);
        await this.deps.db.insert(liveSession).values({
          id: result.sessionId, channelId: key.channelId, source: ingest.source, codecs: room.codecs, startedAt: room.startedAt, title: next?.title ?? '', category: next?.category ?? '',
        });
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
        const room = this.roomById(key.channelId);
        if (room?.hasPublisher) throw conflict('This channel is already live from another session.');
        // refused before the bridge starts (goLive asks again, for a publisher that raced this one)
        if (!room) await this.deps.mayStart?.(key.channelId);
        return key;
      },
      start: (key, tracks, ingest) => this.goLive(key, ingest, (room) => room.publishPlain(tracks)),
    };
  }

  /**
   * What this node holds now, for the node registry (sfu/cluster/): its viewers (relayed broadcasts' too), the channels
   * it is origin for and those it relays from another node.
   */
  holding(): { viewers: number; channels: { id: string; slug: string }[]; relays: { id: string; slug: string }[] } {
    const open = [...this.rooms.values()].filter((r) => !r.isClosed);
    const relays = this.edge?.rooms() ?? [];
    return {
      viewers: [...open, ...relays].reduce((n, r) => n + r.viewerCount, 0),
      channels: open.map((r) => ({ id: r.channelId, slug: this.slugOf(r.channelId) ?? r.slug })),
      relays: relays.map((r) => ({ id: r.channelId, slug: r.slug })),
    };
  }

  /**
   * A drain began: from now on a broadcast here whose publisher drops ends at once with `reason` (one already waiting
   * for its publisher ends now), and with `moveViewers` every viewer session here ends — the broadcasts go on, and
   * the players' reconnects go to other nodes, which pull them from here (edge pull). Returns the viewers dismissed.
   */
  beginDrain(reason: string, moveViewers: boolean): number {
    this.draining = reason;
    for (const room of this.rooms.values()) if (!room.isClosed && !room.hasPublisher) room.close(reason);
    if (!moveViewers) return 0;
    return [...this.rooms.values(), ...(this.edge?.rooms() ?? [])].reduce((n, room) => n + room.dismissViewers(), 0);
  }

  /** Ends every broadcast and relay here (a drained node's grace is over): publishers and players reconnect elsewhere. */
  endAll(reason: string): void {
    for (const room of [...this.rooms.values(), ...(this.edge?.rooms() ?? [])]) room.close(reason);
  }

  async close(): Promise<void> {
    clearInterval(this.recorderWatch);
    for (const off of this.unsubscribe) off();
    await this.rtmp?.server.close();
    this.edge?.close();
    for (const room of [...this.rooms.values()]) room.close();
    this.pool.close();
  }
}
