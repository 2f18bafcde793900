// One live channel on the SFU: a router with at most one publisher session (its transports and producers) and any
// number of viewer sessions (a transport and consumers each). close() is idempotent and cascades to everything.
import { EventEmitter } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import { badRequest, conflict, invalidState, notFound } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { Fanout, keyframePacing, type Seat, type Workers } from './Fanout.ts';
import type { IngestInfo, IngestRoom, PlainTrack, RoomEvents } from './ingest.ts';
import type { RecordedTrack, RtpTargets } from '../shared/recorder-protocol.ts';
import { mediaFailure } from './media-failure.ts';
import { RecorderTap } from './RecorderTap.ts';
import type { Placement } from './WorkerPool.ts';
import { consumerCapabilities, newStreamId, sameCodec, producerParameters, SdpError, writeAnswer, type AnswerSection, type ParsedOffer } from './sdp.ts';

/**
 * A WHIP or WHEP resource id (the last segment of its Location): 256 random bits, unrelated to anything public (the
 * live session id in the channel JSON, preview URLs and webhooks is not one), so holding it proves you were given it.
 */
const resourceToken = () => randomBytes(32).toString('base64url');

/** Any encoder starts with a keyframe and repeats one within seconds; VP8 flowing this long without one is unusable. */
const VP8_KEYFRAME_WAIT_MS = 5_000;

/**
 * A viewer's capabilities minus RTX entries whose payload type the router numbers differently: with those the
 * consumer retransmits on the original stream instead of sending RTX the viewer would not recognize.
 */
function withoutForeignRtx(caps: ms.RtpCapabilities, router: ms.Router): ms.RtpCapabilities {
  const mine = router.rtpCapabilities.codecs ?? [];
  return {
    ...caps,
    codecs: (caps.codecs ?? []).filter((c) => {
      if (!/\/rtx$/i.test(c.mimeType)) return true;
      const main = caps.codecs?.find((m) => m.preferredPayloadType === Number(c.parameters?.apt));
      const routerMain = main && mine.find((m) => !/\/rtx$/i.test(m.mimeType) && sameCodec(m, main));
      const routerRtx = routerMain && mine.find((m) => /\/rtx$/i.test(m.mimeType) && Number(m.parameters?.apt) === routerMain.preferredPayloadType);
      return routerRtx?.preferredPayloadType === c.preferredPayloadType && routerMain?.preferredPayloadType === main?.preferredPayloadType;
    }),
  };
}

export type RoomSettings = {
  /** the address the recording feed sends from (to a recorder on another host too) */
  listenIp: string;
  publishGraceMs: number;
  /** viewers this room seats on one worker (so it takes this × workers) */
  viewersPerWorker: number;
  /** payload-type numberings other than the room's router's served at once */
  maxNumberings: number;
};

/**
 * What the SFU receives of one published stream (the publisher's "received health"): bits/s, lost packets (in all, and
 * the fraction of the last report, 0–255 as RTCP spells it), jitter in RTP clock units, mediasoup's score 0–10.
 */
export type ReceivedStream = {
  kind: string; mimeType: string; rid: string | null; packetCount: number; bitrate: number; packetsLost: number; fractionLost: number; jitter: number; score: number;
  roundTripTime: number | null;
};

/**
 * `resource` is the WHEP resource token; `seat` where it consumes (Fanout.ts: the origin router or a branch on some
 * worker); `layers` the quality the viewer chose (undefined: auto, the consumer adapts up to the best layer as
 * bandwidth allows).
 */
type Viewer = {
  resource: string;
  transport: ms.WebRtcTransport;
  consumers: ms.Consumer[];
  seat: Seat;
  release: (() => void) | undefined;
  layers?: ms.ConsumerLayers;
};

/** A viewer's video quality choice: a spatial layer (and optionally a temporal one), or auto. */
export type LayerChoice = { auto: true } | { spatialLayer: number; temporalLayer?: number | undefined };

/**
 * The video layers a viewer can choose between (simulcast encodings or SVC spatial layers, lowest first; one for a
 * broadcast without simulcast), with the bitrate each arrives at now, what the viewer chose and what it gets.
 * Resolutions are not in RTP the SFU reads (the player measures the one it receives).
 */
export type ViewerLayers = {
  layers: { spatialLayer: number; rid: string | null; bitrate: number }[];
  temporalLayers: number;
  /** null: auto */
  preferred: ms.ConsumerLayers | null;
  /** null while nothing is forwarded (paused, or the layer has not started yet) */
  current: ms.ConsumerLayers | null;
};


/** Spatial and temporal layer counts of a consumer's scalability mode ("S3T3", "L1T2"; "L1T1" when absent). */
function layerCounts(consumer: ms.Consumer): { spatial: number; temporal: number } {
  const m = /^[LS](\d+)T(\d+)/.exec(consumer.rtpParameters.encodings?.[0]?.scalabilityMode ?? '');
  return { spatial: Number(m?.[1] ?? 1), temporal: Number(m?.[2] ?? 1) };
}
/**
 * WHIP: one WebRTC transport; RTMP: one plain RTP transport per track, fed by the bridge's FFmpeg. `resource` (WHIP
 * only) is the token in its Location, `credential` what its DELETE must present (the stream key's hash).
 */
/** `ready` once every track's producer exists: until then viewers, the edge pipe and `publisherId` do not see it */
type Publisher = { id: string; resource?: string; credential?: string; transports: ms.Transport[]; producers: ms.Producer[]; ready?: boolean };

export class Room extends EventEmitter<RoomEvents> implements IngestRoom {
  private publisher: Publisher | undefined;
  /** viewers by WHEP resource token */
  private readonly viewers = new Map<string, Viewer>();
  /** the origin router's fan-out to branch routers on every worker (Fanout.ts) */
  private readonly fanout: Fanout;
  /**
   * Every WebRTC transport this room opened and has not closed (publisher's and viewers', on its router or a branch):
   * close() closes them itself, see there.
   */
  private readonly webRtcTransports = new Set<ms.WebRtcTransport>();
  private closed = false;
  private graceTimer: NodeJS.Timeout | undefined;
  /** the grace period ran out while a publisher was reconnecting: why the room ends if that attempt fails */
  private graceExpired: string | undefined;
  /** the publisher session whose connection dropped, while the room waits for it (its DELETE still ends the room) */
  private lostPublisher: Publisher | undefined;
  /** the publisher session this room was opened for (kept after close for the offline event) */
  sessionId: string | undefined;
  /** why the room closed (DELETE, dtls failed, key revoked, …) */
  endReason: string | undefined;
  readonly startedAt = new Date();
  peakViewers = 0;
  /** the recorder's consumers and media watch (RecorderTap.ts) */
  private readonly tap: RecorderTap;
  /** how the broadcast comes in: WHIP, or RTMP through the bridge (copied or re-encoded video) */
  ingest: { source: 'whip' } | IngestInfo | undefined;

  constructor(
    readonly channelId: string,
    readonly slug: string,
    private readonly home: Placement,
    /** the worker pool, where viewers are seated and branch routers made */
    workers: Workers,
    private readonly settings: RoomSettings,
    private readonly log: Logger,
  ) {
    super();
    this.router = home.router;
    this.fanout = new Fanout(home, workers, {
      perWorker: settings.viewersPerWorker,
      maxNumberings: settings.maxNumberings,
      slug,
      onBranchLost: (key) => this.branchLost(key),
    });
    this.tap = new RecorderTap({
      router: home.router,
      slug,
      log,
      listenIp: settings.listenIp,
      closed: () => this.closed,
      live: (sessionId) => !this.closed && !!this.publisher && this.sessionId === sessionId,
      producers: () => this.publisher?.producers ?? [],
    });
  }

  /** the room's own router (the origin router of its fan-out): an edge's pipe from another node ends here */
  readonly router: ms.Router;

  get isClosed() {
    return this.closed;
  }
  get viewerCount() {
    return this.viewers.size;
  }
  /**
   * The publisher whose tracks are all set up. A viewer who arrived while the producers were still being created would
   * get consumers for only some of them (audio without video for the whole session), so until then the room is not
   * live to viewers.
   */
  private get live(): Publisher | undefined {
    return this.publisher?.ready ? this.publisher : undefined;
  }
  get publisherId() {
    return this.live?.id;
  }
  /** a publisher is connected or connecting (a second one is refused) */
  get hasPublisher() {
    return !!this.publisher;
  }
  /** mime types of what is being forwarded, e.g. ["audio/opus", "video/VP8"] */
  get codecs(): string[] {
    return (this.live?.producers ?? []).map((p) => p.rtpParameters.codecs[0]!.mimeType);
  }

  /** A WebRTC transport on the worker's WebRtcServer (its one UDP and one TCP port; no port per transport). */
  private async createTransport(at: Placement = this.home): Promise<ms.WebRtcTransport> {
    const transport = await at.router.createWebRtcTransport({
      webRtcServer: at.webRtcServer,
      enableUdp: true,
      enableTcp: true, // ICE over TCP as the fallback when UDP is blocked
      preferUdp: true,
      initialAvailableOutgoingBitrate: 1_000_000,
    });
    this.webRtcTransports.add(transport);
    transport.observer.once('close', () => this.webRtcTransports.delete(transport));
    return transport;
  }

  /**
   * Ends a session whose ICE or DTLS failed or closed, or from which nothing has arrived for `silentMs` (mediasoup
   * 3.12's ICE-lite has no consent timeout, so a closed tab that sent no DTLS close would otherwise never be noticed;
   * publishers send media continuously, viewers RTCP and STUN consent checks every few seconds).
   */
  private watch(transport: ms.Transport, onGone: (reason: string) => void, silentMs: number) {
    let lastBytes = -1;
    let lastChange = Date.now();
    const timer = setInterval(async () => {
      if (transport.closed) return clearInterval(timer);
      const [stats] = await transport.getStats().catch(() => []);
      const bytes = stats?.bytesReceived ?? 0;
      if (bytes !== lastBytes) {
        lastBytes = bytes;
        lastChange = Date.now();
      } else if (Date.now() - lastChange >= silentMs) {
        clearInterval(timer);
        onGone(`nothing received for ${Math.round(silentMs / 1000)} s`);
      }
    }, 1000);
    timer.unref();
    transport.observer.once('close', () => clearInterval(timer));
    if (!('iceState' in transport)) return; // the rest is WebRTC's
    const rtc = transport as ms.WebRtcTransport;
    rtc.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') onGone(`dtls ${state}`);
    });
    rtc.on('icestatechange', (state) => {
      if (state === 'disconnected') {
        // give ICE a moment to come back (a network blip) before ending the session
        const timer = setTimeout(() => rtc.iceState === 'disconnected' && onGone('ice disconnected'), 5_000);
        timer.unref();
      }
    });
  }

  /**
   * WHIP: accepts a publisher's offer; returns the live session id, the resource token for its Location and the SDP
   * answer. `credential` is what ending the session (DELETE) must present again.
   */
  async publish(offer: ParsedOffer, credential: string): Promise<{ sessionId: string; resource: string; answer: string }> {
    if (this.closed) throw invalidState('This broadcast has ended.');
    if (this.publisher) throw conflict('This channel is already live from another session.');
    const media = offer.sections.filter((s) => s.kind);
    if (!media.length) throw new SdpError('The offer has no audio or video section.');
    const caps = this.router.rtpCapabilities;
    // map every section first, so a bad offer fails before anything is allocated
    const plans = offer.sections.map((s) => (s.kind ? { ...s, rtp: producerParameters(s.media, s.kind, s.mid, caps) } : s));
    const transport = await this.createTransport().catch((err) => {
      throw mediaFailure(err, this.log, 'WHIP transport');
    });
    if (this.closed || this.publisher) {
      transport.close();
      throw this.closed ? invalidState('This broadcast has ended.') : conflict('This channel is already live from another session.');
    }
    const session: Publisher = { id: randomUUID(), resource: resourceToken(), credential, transports: [transport], producers: [] };
    this.publisher = session;
    this.sessionId ??= session.id; // a reconnecting publisher continues the same live session
    const resuming = this.graceTimer !== undefined || this.lostPublisher !== undefined;
    try {
      await transport.connect({ dtlsParameters: offer.dtls });
      const sections: AnswerSection[] = [];
      for (const p of plans) {
        if (!('rtp' in p) || !p.kind) {
          sections.push({ mid: p.mid, media: p.media, rejected: true });
          continue;
        }
        const producer = await transport.produce({ kind: p.kind, rtpParameters: p.rtp, ...keyframePacing(p.kind) });
        session.producers.push(producer);
        if (/\/vp8$/i.test(p.rtp.codecs[0]!.mimeType)) this.watchVp8Keyframes(producer);
        const rids = p.rtp.encodings?.map((e) => e.rid).filter((r): r is string => !!r);
        sections.push({ mid: p.mid, media: p.media, direction: 'recvonly', rtp: p.rtp, ...(rids?.length ? { simulcastRids: rids } : {}) });
      }
      await this.tap.publisherStarted(session.producers);
      session.ready = true;
      this.watch(transport, (reason) => this.publisherLost(session.id, reason), 4_000);
      if (resuming) this.resumed();
      this.log.info({ channel: this.slug, session: session.id, codecs: this.codecs, resuming }, 'publisher connected');
      return { sessionId: session.id, resource: session.resource!, answer: writeAnswer(transport, sections) };
    } catch (err) {
      if (this.publisher === session) {
        this.publisher = undefined;
        this.tap.publisherFailed();
      }
      transport.close();
      this.resumeFailed();
      throw mediaFailure(err, this.log, 'WHIP publish');
    }
  }

  /**
   * mediasoup drops VP8 whose payload descriptors carry no extension (no PictureID; GStreamer's rtpvp8pay by
   * default) as unparsable: it never sees a keyframe, so no viewer and no recording gets a frame. Nothing in the
   * SDP shows it, so the operator is told once when VP8 flows for a while without a keyframe mediasoup recognizes.
   */
  private watchVp8Keyframes(producer: ms.Producer) {
    let keyframes = 0;
    const onTrace = (t: ms.ProducerTraceEventData) => void (t.type === 'keyframe' && keyframes++);
    producer.on('trace', onTrace);
    producer.enableTraceEvent(['keyframe']).catch(() => undefined);
    const timer = setTimeout(async () => {
      producer.off('trace', onTrace);
      if (producer.closed) return;
      producer.enableTraceEvent([]).catch(() => undefined);
      const packets = (await producer.getStats().catch(() => []))[0]?.packetCount ?? 0;
      if (!keyframes && packets > 0 && !producer.closed) {
        this.log.warn(
          { channel: this.slug, packets },
          'VP8 video without PictureID cannot be forwarded (mediasoup finds no keyframe in it); the sender must set VP8 picture ids (GStreamer: rtpvp8pay picture-id-mode=15-bit)',
        );
      }
    }, VP8_KEYFRAME_WAIT_MS);
    producer.observer.once('close', () => clearTimeout(timer));
  }

  private resumed() {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.graceExpired = undefined;
    this.lostPublisher = undefined;
    this.emit('publisher-back');
  }

  /** A reconnect attempt failed after the grace period ran out during it: the broadcast ends now. */
  private resumeFailed() {
    const reason = this.graceExpired;
    if (reason === undefined || this.publisher || this.closed) return;
    this.graceExpired = undefined;
    this.log.info({ channel: this.slug, reason }, 'publisher did not return');
    this.emit('publisher-gone', reason);
    this.close(reason);
  }

  /**
   * RTMP (through the bridge): a plain RTP transport per track on the loopback address, learning FFmpeg's source
   * ports from its first packets (comedia). FFmpeg sends RTCP from a socket of its own, so RTCP gets its own port
   * too (with one port, comedia would lock onto whichever socket spoke first). Returns the RTP and RTCP port to send
   * each track to. A failure (an unsupported codec) leaves nothing allocated.
   */
  async publishPlain(tracks: PlainTrack[]): Promise<{ sessionId: string; ports: { rtp: number; rtcp: number }[] }> {
    if (this.closed) throw invalidState('This broadcast has ended.');
    if (this.publisher) throw conflict('This channel is already live from another session.');
    const session: Publisher = { id: randomUUID(), transports: [], producers: [] };
    this.publisher = session;
    const resuming = this.graceTimer !== undefined || this.lostPublisher !== undefined;
    try {
      const ports: { rtp: number; rtcp: number }[] = [];
      for (const t of tracks) {
        const transport = await this.router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: false, comedia: true });
        session.transports.push(transport);
        ports.push({ rtp: transport.tuple.localPort, rtcp: transport.rtcpTuple!.localPort });
        const producer = await transport.produce({ kind: t.kind, rtpParameters: { codecs: [t.codec], encodings: [{ ssrc: t.ssrc }] }, ...keyframePacing(t.kind) });
        session.producers.push(producer);
      }
      this.sessionId ??= session.id;
      await this.tap.publisherStarted(session.producers);
      session.ready = true;
      // FFmpeg may take a few seconds to start sending (probing, encoder start-up)
      for (const t of session.transports) this.watch(t, (reason) => this.publisherLost(session.id, reason), 8_000);
      if (resuming) this.resumed();
      this.log.info({ channel: this.slug, session: session.id, codecs: this.codecs, resuming }, 'RTMP publisher connected');
      return { sessionId: session.id, ports };
    } catch (err) {
      if (this.publisher === session) {
        this.publisher = undefined;
        this.tap.publisherFailed();
      }
      for (const t of session.transports) t.close();
      this.resumeFailed();
      throw mediaFailure(err, this.log, 'RTMP plain transports');
    }
  }

  /**
   * WHEP: accepts a viewer's offer; consumers start paused and resume (with a keyframe request) once DTLS is up.
   * Returns the resource token for its Location. `release` runs once when the viewer leaves (or is refused), so a
   * caller's per-address count follows the session. The viewer is seated on the least-loaded worker with room for this
   * channel (Fanout.ts); none left is a 503 with Retry-After.
   */
  async view(offer: ParsedOffer, release?: () => void): Promise<{ resource: string; answer: string }> {
    const publisher = this.live;
    if (this.closed || !publisher) throw notFound(`A live broadcast on "${this.slug}"`);
    let seat: Seat | undefined;
    let transport: ms.WebRtcTransport | undefined;
    try {
      const offered = consumerCapabilities(offer);
      seat = await this.fanout.seat(offered, publisher.producers);
      const { router } = seat;
      const caps = withoutForeignRtx(offered, router);
      transport = await this.createTransport(seat);
      // (a publisher that reconnected meanwhile has other producers: the player's retry gets those)
      if (this.closed || this.live !== publisher) throw notFound(`A live broadcast on "${this.slug}"`);
      const session: Viewer = { resource: resourceToken(), transport, consumers: [], seat, release };
      await transport.connect({ dtlsParameters: offer.dtls });
      const streamId = newStreamId();
      const sections: AnswerSection[] = [];
      const used = new Set<string>();
      for (const s of offer.sections) {
        const producer = s.kind ? publisher.producers.find((p) => p.kind === s.kind && !used.has(p.id)) : undefined;
        const producerId = producer && seat.producerId(producer.id);
        if (!producer || !producerId || !router.canConsume({ producerId, rtpCapabilities: caps })) {
          sections.push({ mid: s.mid, media: s.media, rejected: true });
          continue;
        }
        used.add(producer.id);
        const consumer = await transport.consume({ producerId, rtpCapabilities: caps, paused: true });
        session.consumers.push(consumer);
        sections.push({
          mid: s.mid,
          media: s.media,
          direction: 'sendonly',
          rtp: { ...consumer.rtpParameters, mid: s.mid },
          msid: `${streamId} ${consumer.id}`,
        });
      }
      if (!session.consumers.length) throw new SdpError('The offer cannot receive any of this broadcast’s codecs.');
      transport.on('dtlsstatechange', (state) => {
        if (state === 'connected') for (const c of session.consumers) void c.resume().catch(() => undefined);
      });
      this.watch(transport, () => this.leave(session.resource), 15_000);
      this.viewers.set(session.resource, session);
      this.peakViewers = Math.max(this.peakViewers, this.viewers.size);
      this.emit('viewers-changed', this.viewers.size);
      return { resource: session.resource, answer: writeAnswer(transport, sections) };
    } catch (err) {
      transport?.close();
      seat?.release();
      release?.();
      throw mediaFailure(err, this.log, 'WHEP view');
    }
  }

  /**
   * Edge pull (sfu/cluster/EdgePull.ts): this room serves a broadcast another node receives, its producers made by the
   * pipe from there standing in for a publisher's; the live session (row, viewers, recording) stays the origin's.
   */
  relay(pipe: ms.PipeTransport, producers: ms.Producer[]): void {
    if (this.closed) throw invalidState('This broadcast has ended.');
    this.publisher = { id: randomUUID(), transports: [pipe], producers, ready: true };
  }

  /** What an edge's pipe consumes here: the router and the publisher's producers; undefined while none publishes. */
  get source(): { router: ms.Router; producers: ms.Producer[] } | undefined {
    return this.live && !this.closed ? { router: this.router, producers: this.live.producers } : undefined;
  }

  /** Payload-type numberings other than the room's being served (each by a branch on one or more workers). */
  get numberingCount() {
    return this.fanout.numberings;
  }

  /** Where this room's viewers sit: the origin's worker, viewers per worker, and the branches open (or opening). */
  placement(): { origin: number; viewersByWorker: Record<number, number>; branches: { worker: number; numbering: string; viewers: number }[] } {
    const viewersByWorker: Record<number, number> = {};
    for (const v of this.viewers.values()) viewersByWorker[v.seat.worker] = (viewersByWorker[v.seat.worker] ?? 0) + 1;
    return { origin: this.home.worker, viewersByWorker, branches: this.fanout.describe() };
  }

  /** The worker the viewer holding `resource` is seated on. */
  viewerWorker(resource: string): number | undefined {
    return this.viewers.get(resource)?.seat.worker;
  }

  /** A branch's worker died: its viewers' sessions are gone (their players reconnect); the broadcast goes on. */
  private branchLost(key: string): void {
    const gone = [...this.viewers.values()].filter((v) => v.seat.branch === key);
    this.log.warn({ channel: this.slug, branch: key, viewers: gone.length }, 'a media worker serving viewers died; they reconnect');
    for (const v of gone) this.leave(v.resource);
  }

  hasViewer(resource: string) {
    return this.viewers.has(resource);
  }

  /** The video layers of the viewer holding `resource`; undefined for no such viewer (or one without video). */
  async viewerLayers(resource: string): Promise<ViewerLayers | undefined> {
    const v = this.viewers.get(resource);
    const consumer = v?.consumers.find((c) => c.kind === 'video' && !c.closed);
    if (!v || !consumer) return undefined;
    const { spatial, temporal } = layerCounts(consumer);
    const producer = this.publisher?.producers.find((p) => p.kind === 'video');
    const encodings = producer?.rtpParameters.encodings ?? [];
    const stats = (await producer?.getStats().catch(() => [])) ?? [];
    const layers = Array.from({ length: spatial }, (_, i) => {
      const rid = spatial > 1 && encodings.length === spatial ? (encodings[i]?.rid ?? null) : null;
      // simulcast: one stream per layer (by rid, else in order); SVC and single streams: the one stream carries all
      const s = rid ? stats.find((x) => x.rid === rid) : spatial > 1 && stats.length === spatial ? stats[i] : spatial === 1 ? stats[0] : undefined;
      return { spatialLayer: i, rid, bitrate: Math.round(s?.bitrate ?? 0) };
    });
    return { layers, temporalLayers: temporal, preferred: v.layers ?? null, current: consumer.currentLayers ?? null };
  }

  /**
   * The viewer holding `resource` receives the chosen video layer (the consumer's preferred layers: mediasoup still
   * drops below it when the viewer's bandwidth cannot carry it), or adapts on its own again (auto: the best layer as
   * preference). undefined for no such viewer; a layer the broadcast does not have is a 400.
   */
  async preferLayers(resource: string, choice: LayerChoice): Promise<ViewerLayers | undefined> {
    const v = this.viewers.get(resource);
    const consumer = v?.consumers.find((c) => c.kind === 'video' && !c.closed);
    if (!v || !consumer) return undefined;
    const { spatial, temporal } = layerCounts(consumer);
    if ('auto' in choice) {
      v.layers = undefined;
      if (consumer.type !== 'simple') await consumer.setPreferredLayers({ spatialLayer: spatial - 1, temporalLayer: temporal - 1 });
    } else {
      if (choice.spatialLayer >= spatial) throw badRequest(spatial === 1 ? 'This broadcast has one video layer only (spatialLayer 0).' : `This broadcast has ${spatial} video layers (spatialLayer 0 to ${spatial - 1}).`);
      if (choice.temporalLayer !== undefined && choice.temporalLayer >= temporal) throw badRequest(`This broadcast's video has ${temporal} temporal layer${temporal === 1 ? '' : 's'} (temporalLayer 0 to ${temporal - 1}).`);
      v.layers = { spatialLayer: choice.spatialLayer, temporalLayer: choice.temporalLayer ?? temporal - 1 };
      if (consumer.type !== 'simple') await consumer.setPreferredLayers(v.layers);
    }
    return this.viewerLayers(resource);
  }

  /** A viewer leaves (DELETE or transport failure). Idempotent. */
  leave(resource: string): boolean {
    const v = this.viewers.get(resource);
    if (!v) return false;
    this.viewers.delete(resource);
    v.transport.close();
    v.release?.();
    v.seat.release();
    this.emit('viewers-changed', this.viewers.size);
    return true;
  }

  /** Ends every viewer session (their players reconnect: elsewhere, when routing sends them there); returns how many. */
  dismissViewers(): number {
    const resources = [...this.viewers.keys()];
    for (const id of resources) this.leave(id);
    return resources.length;
  }

  /**
   * The publisher's connection dropped (tab closed, network gone). Its transport and the viewers' sessions close
   * (viewers reconnect on their own); the broadcast stays live for publishGraceMs so that the publisher can come
   * back into the same live session, and ends if it does not.
   */
  publisherLost(sessionId: string, reason: string): void {
    if (this.publisher?.id !== sessionId || this.closed) return;
    if (this.settings.publishGraceMs <= 0) return void this.endPublisher(sessionId, reason);
    this.log.warn({ channel: this.slug, session: sessionId, reason, graceMs: this.settings.publishGraceMs }, 'publisher connection lost; waiting for it to return');
    for (const t of this.publisher.transports) t.close();
    this.lostPublisher = this.publisher;
    this.publisher = undefined;
    this.dismissViewers();
    this.emit('publisher-lost', reason);
    this.graceTimer = setTimeout(() => {
      this.graceTimer = undefined;
      // a publisher reconnecting right now decides: the room ends only if that attempt fails (see resumeFailed)
      if (this.publisher) return void (this.graceExpired = reason);
      this.log.info({ channel: this.slug, reason }, 'publisher did not return');
      this.emit('publisher-gone', reason);
      this.close(reason);
    }, this.settings.publishGraceMs);
  }

  /**
   * The WHIP session whose Location ends in `resource` — the one publishing or the one whose connection dropped while
   * the room waits for it — with the credential its DELETE must present; undefined for anything else.
   */
  whipSession(resource: string): { sessionId: string; credential: string } | undefined {
    for (const p of [this.publisher, this.lostPublisher]) {
      if (p?.resource !== undefined && p.resource === resource && p.credential) return { sessionId: p.id, credential: p.credential };
    }
    return undefined;
  }

  /** The publisher's session ends; the room (and every viewer session) closes with it. */
  endPublisher(sessionId: string, reason = 'ended'): boolean {
    if (this.publisher?.id !== sessionId && this.lostPublisher?.id !== sessionId) return false;
    this.log.info({ channel: this.slug, session: sessionId, reason }, 'publisher gone');
    this.emit('publisher-gone', reason);
    this.close(reason);
    return true;
  }

  /** Closes the router, which closes every transport, producer and consumer it holds. Idempotent. */
  close(reason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.endReason = reason;
    clearTimeout(this.graceTimer);
    this.tap.close();
    this.publisher = undefined;
    this.lostPublisher = undefined;
    const seats = [...this.viewers.values()].map((v) => v.seat);
    for (const v of this.viewers.values()) v.release?.();
    this.viewers.clear();
    // Each transport is closed before its router: mediasoup 3.12's WebRtcServer forgets a transport only when the
    // transport itself is closed, not when its router is, so one left to router.close() stays in the server's map
    // for the worker's life — and with it, through its event listeners, this room, its producers and its timers
    // (some 50 KiB of heap per ended WHIP broadcast, as the SDP fuzzer measured).
    for (const t of [...this.webRtcTransports]) t.close();
    for (const seat of seats) seat.release();
    this.router.close();
    this.home.release();
    this.fanout.close();
    this.emit('close');
  }

  /**
   * The recorder's view of the broadcast (RecorderTap.ts): each track as plain RTP to the recorder's ports, paused
   * until resumeRecording(); `onMedia` hears when the publisher's media stops and flows again. Attaching again
   * replaces the previous attachment.
   */
  attachRecorder(sessionId: string, targets: RtpTargets, onMedia?: (flowing: boolean) => void): Promise<RecordedTrack[]> {
    return this.tap.attach(sessionId, targets, onMedia);
  }

  /** Starts the recorder's consumers (its FFmpeg is listening) with a keyframe first. */
  resumeRecording(): Promise<void> {
    return this.tap.resume();
  }

  /** The recorder cuts segments on keyframes and asks for one every segment. */
  recordingKeyframe(): Promise<void> {
    return this.tap.keyframe();
  }

  /** A recorder is attached (its consumers send plain RTP). */
  get recorderAttached(): boolean {
    return this.tap.attached;
  }

  /** Nothing more goes to the recorder (it stopped, or went silent). */
  detachRecorder(): void {
    this.tap.detach();
  }

  /** Inbound RTP statistics of the publisher's producers: one entry per stream (a simulcast layer is one). */
  async producerStats() {
    const out: ReceivedStream[] = [];
    for (const p of this.publisher?.producers ?? []) {
      for (const s of await p.getStats()) {
        out.push({
          kind: p.kind, mimeType: s.mimeType, rid: s.rid ?? null, packetCount: s.packetCount, bitrate: s.bitrate, packetsLost: s.packetsLost,
          fractionLost: s.fractionLost, jitter: s.jitter, score: s.score, roundTripTime: s.roundTripTime ?? null,
        });
      }
    }
    return out;
  }

  /** Live mediasoup objects this room holds across its origin and branch routers (a closed room holds none). */
  async dump() {
    const total = { transports: 0, producers: 0, consumers: 0 };
    const branches = await this.fanout.routers();
    for (const router of [this.router, ...branches]) {
      if (!router || router.closed) continue;
      const d = await router.dump();
      total.transports += d.transportIds.length;
      total.producers += Object.keys(d.mapProducerIdConsumerIds).length;
      total.consumers += Object.keys(d.mapConsumerIdProducerId).length;
    }
    return total;
  }

}
