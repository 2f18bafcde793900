// RTMP ingest for OBS and FFmpeg: `rtmp://<host>:1935/live` with the stream key as the stream name.
// node-media-server's RTMP protocol state machine (handshake, chunking, AMF commands) runs on Glint's own TCP server,
// so that the key is checked before the publish is acknowledged and before any media is accepted. Each accepted
// publisher is probed for a moment (codec, profile, B-frames), then its FLV tags go through an FFmpeg bridge into the
// room's plain RTP transports: the same live session, events and viewers as a WHIP broadcast.
// The port is open to anyone: RtmpProtocol.ts bounds every number a peer sends before node-media-server acts on it,
// each connection parses inside an error boundary that ends only that connection, and connections, key guesses and
// the time to reach a publish are capped.
import net from 'node:net';
import { randomInt } from 'node:crypto';
import Flv from 'node-media-server/src/protocol/flv.js';
import { decodeAmf0Data } from 'node-media-server/src/protocol/amf.js';
import type AVPacket from 'node-media-server/src/core/avpacket.js';
import type { types as ms } from 'mediasoup';
import { normalizeAddress } from '../../shared/client-address.ts';
import type { Config } from '../../shared/config.ts';
import { AppError, conflict, rateLimited } from '../../shared/errors.ts';
import { ConcurrencyCap, RateLimit } from '../../shared/limits.ts';
import type { Logger } from '../../shared/logger.ts';
import { MEDIA_CODECS } from '../codecs.ts';
import type { IngestInfo, IngestRoom, PlainTrack } from '../ingest.ts';
import { FfmpegBridge, type BridgePlan, type VideoPlan } from './bridge.ts';
import { FLV_AUDIO, FLV_CODEC_H264, FLV_SCRIPT, FLV_VIDEO, avcProfileLevelId, frameRateOf, isConstrainedBaseline, isKeyframe, isVideoConfig, isVideoFrame, ownPacket, reorders } from './flv.ts';
import { RtmpProtocol, RtmpProtocolError } from './RtmpProtocol.ts';

/** What the SFU provides to RTMP publishers. */
export type RtmpHost = {
  /** Checks the stream key (and that the channel can go live); throws an AppError (401, 409) to refuse. */
  authorize(streamKey: string): Promise<{ channelId: string; slug: string; keyId: string }>;
  /** Goes live (or resumes within the grace period) with plain RTP tracks; returns the ports to send them to. */
  start(key: { channelId: string; slug: string; keyId: string }, tracks: PlainTrack[], ingest: IngestInfo): Promise<{ room: IngestRoom; sessionId: string; ports: { rtp: number; rtcp: number }[] }>;
};

/** The caps and deadlines of RTMP_* in shared/config.ts. */
export type RtmpLimits = Pick<NonNullable<Config['rtmp']>, 'maxConnections' | 'maxConnectionsPerAddress' | 'keyFailuresPerMinute' | 'handshakeTimeoutMs' | 'maxMessageBytes'>;

/** How long the bridge watches a new stream before it chooses copy or re-encode. */
const PROBE_FRAMES = 10;
const PROBE_MAX_MS = 3000;
/** What the probe holds at most: a publisher sending faster than it can be judged is judged on what it sent. */
const PROBE_MAX_BYTES = 16 << 20;
/** No bytes for this long and a connection is cut off: a stalled publisher must not hold the channel. */
const IDLE_TIMEOUT_MS = 10_000;
/** Unsent replies a client may leave unread (a connect's answer is ~300 bytes; one that never reads stops here). */
const MAX_UNSENT_BYTES = 256 * 1024;
/** How long a refused client has to read its onStatus error before the connection is cut. */
const REFUSAL_LINGER_MS = 1000;

const codecFor = (kind: 'audio' | 'video', mime: string) => MEDIA_CODECS.find((c) => c.kind === kind && c.mimeType === mime)!;

/**
 * At most `lines` log lines of one kind per `windowMs`, so a flood of refused or malformed connections cannot flood the
 * log; the next line logged says how many were dropped.
 */
class LogBudget {
  private readonly kinds = new Map<string, { until: number; left: number; dropped: number }>();

  constructor(
    private readonly lines = 5,
    private readonly windowMs = 10_000,
  ) {}

  /** undefined: drop this line; otherwise how many of its kind were dropped before it. */
  take(kind: string): number | undefined {
    const now = Date.now();
    let k = this.kinds.get(kind);
    if (!k || now >= k.until) {
      k = { until: now + this.windowMs, left: this.lines, dropped: k?.dropped ?? 0 };
      this.kinds.set(kind, k);
    }
    if (k.left === 0) {
      k.dropped++;
      return undefined;
    }
    k.left--;
    const dropped = k.dropped;
    k.dropped = 0;
    return dropped;
  }
}

/** What every connection shares: the SFU, the log, the limits and the budgets they are counted against. */
type Ingest = {
  host: RtmpHost;
  log: Logger;
  limits: RtmpLimits;
  /** failed stream-key checks per address: a budget spent, further keys from that address are not even checked */
  keyFailures: RateLimit;
  /**
   * Takes the channel for this connection from its key check until it closes: two RTMP publishers with the same key
   * would otherwise both pass the check (the room is not live yet) and race to go live. false: another holds it.
   */
  claim(channelId: string, conn: RtmpConnection): boolean;
  unclaim(channelId: string, conn: RtmpConnection): void;
  /** logs through the LogBudget: lines a stranger can cause at will */
  note(kind: string, level: 'info' | 'warn', fields: Record<string, unknown>, msg: string): void;
};

export class RtmpServer {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly connections = new Set<RtmpConnection>();
  private readonly caps: ConcurrencyCap;
  private readonly budget = new LogBudget();
  private readonly claims = new Map<string, RtmpConnection>();
  private readonly ingest: Ingest;

  constructor(host: RtmpHost, log: Logger, limits: RtmpLimits) {
    this.caps = new ConcurrencyCap({ perKey: limits.maxConnectionsPerAddress, total: limits.maxConnections });
    // one process serves a given RTMP port, so the budget lives in it (no proxy in front: the peer is the client)
    const keyFailures = new RateLimit({ name: 'rtmp-key-failures', points: limits.keyFailuresPerMinute, seconds: 60 });
    this.ingest = {
      host,
      log,
      limits,
      keyFailures,
      claim: (channelId, conn) => {
        const holder = this.claims.get(channelId);
        if (holder && holder !== conn) return false;
        this.claims.set(channelId, conn);
        return true;
      },
      unclaim: (channelId, conn) => {
        if (this.claims.get(channelId) === conn) this.claims.delete(channelId);
      },
      note: (kind, level, fields, msg) => {
        const dropped = this.budget.take(kind);
        if (dropped !== undefined) log[level](dropped ? { ...fields, suppressed: dropped } : fields, msg);
      },
    };
  }

  /** Connections open now (accepted and not yet closed). */
  get size(): number {
    return this.connections.size;
  }

  async listen(port: number, hostname: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, hostname, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address() as net.AddressInfo;
    this.ingest.log.info({ port: addr.port, host: hostname }, 'RTMP ingest listening');
    return addr.port;
  }

  private accept(socket: net.Socket) {
    socket.on('error', () => undefined); // 'close' follows
    const address = normalizeAddress(socket.remoteAddress ?? '');
    const release = this.caps.acquire(address);
    if (!release) {
      const { maxConnections, maxConnectionsPerAddress } = this.ingest.limits;
      const reason = this.caps.refusal(address) === 'total' ? `all ${maxConnections} RTMP connections are in use` : `${address} already holds ${maxConnectionsPerAddress} RTMP connections`;
      this.ingest.note('refused', 'warn', { remote: address, reason }, 'RTMP connection refused');
      socket.destroy();
      return;
    }
    const conn = new RtmpConnection(socket, address, this.ingest);
    this.connections.add(conn);
    socket.once('close', () => {
      this.connections.delete(conn);
      release();
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const c of this.connections) c.end('server shutting down');
    });
    await Promise.all([...this.connections].map((c) => c.stopped));
  }
}

/**
 * One RTMP client. Every byte it sends is parsed inside an error boundary (receive(), guard()) that closes this
 * connection and nothing else, whatever node-media-server or Glint's own callbacks throw, synchronously or later.
 */
class RtmpConnection {
  private readonly rtmp: RtmpProtocol;
  private state: 'connecting' | 'authorizing' | 'probing' | 'starting' | 'live' | 'closed' = 'connecting';
  private key: { channelId: string; slug: string; keyId: string } | undefined;
  /** tags held while probing: the last metadata, the decoder configurations, and everything from the first keyframe */
  private metadata: AVPacket | undefined;
  private videoConfig: AVPacket | undefined;
  private audioConfig: AVPacket | undefined;
  private pending: AVPacket[] = [];
  private pendingBytes = 0;
  private probeStarted = 0;
  private bridge: FfmpegBridge | undefined;
  private room: IngestRoom | undefined;
  private sessionId: string | undefined;
  /** the publisher said it is done (deleteStream / FCUnpublish): the broadcast ends now, no grace period */
  private unpublished = false;
  private endReason: string | undefined;
  private detach: () => void = () => undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly remote: string;
  readonly stopped: Promise<void>;
  private resolveStopped!: () => void;

  constructor(
    private readonly socket: net.Socket,
    private readonly address: string,
    private readonly ingest: Ingest,
  ) {
    this.remote = `${address}:${socket.remotePort}`;
    this.stopped = new Promise((r) => (this.resolveStopped = r));
    this.rtmp = new RtmpProtocol({ maxMediaBytes: ingest.limits.maxMessageBytes });
    socket.setNoDelay(true);
    // the idle timeout restarts with every byte; this one does not: a client trickling a byte at a time through the
    // handshake, connect and publish is cut off all the same
    socket.setTimeout(IDLE_TIMEOUT_MS, () => this.end('connection idle'));
    this.after(ingest.limits.handshakeTimeoutMs, () => {
      if (this.state === 'connecting' || this.state === 'authorizing') this.end(`no accepted publish within ${ingest.limits.handshakeTimeoutMs} ms of connecting`);
    });
    this.rtmp.onOutputCallback = (buf) => {
      if (socket.destroyed) return;
      if (socket.writableLength > MAX_UNSENT_BYTES) return this.end('the client does not read what it is sent');
      socket.write(buf);
    };
    this.rtmp.onPublishRequest = (name, app) => this.guard(this.authorize(name, app));
    this.rtmp.onPlayRequest = () => this.refuse('NetStream.Play.Failed', 'Glint does not play over RTMP; watch over WebRTC (WHEP) or HLS.', 'play attempted');
    this.rtmp.onUnpublish = () => {
      this.unpublished = true;
      this.end('publisher stopped');
    };
    this.rtmp.onPacketCallback = (p) => this.packet(p);
    socket.on('data', (data) => this.receive(data));
    // Glint's own clean-up, not the peer's input: if it fails, that is a bug worth an error line
    socket.once('close', () => void this.closed().catch((err) => ingest.log.error({ err, remote: this.remote }, 'RTMP connection clean-up failed')));
  }

  /** The synchronous boundary: node-media-server parses, and calls back into this connection, inside it. */
  private receive(data: Buffer) {
    if (this.state === 'closed' || this.socket.destroyed) return; // refused: its answer is on the way out, nothing more is read
    try {
      this.rtmp.parserData(data);
    } catch (err) {
      this.fail(err);
    }
  }

  /** The asynchronous boundary: work started from a callback (the key check, going live) ends this connection if it fails. */
  private guard(work: Promise<unknown>) {
    work.catch((err) => this.fail(err));
  }

  private fail(err: unknown) {
    if (err instanceof RtmpProtocolError) return this.end(err.message);
    // node-media-server's own parser threw (a RangeError reading past a buffer, a TypeError on a value it did not
    // expect): still input this peer chose, so a warning, not an error
    this.ingest.note('unreadable', 'warn', { remote: this.remote, channel: this.key?.slug, err }, 'RTMP input could not be parsed');
    this.end(`unreadable RTMP: ${(err as Error)?.message ?? String(err)}`);
  }

  /** Closed or closing: refused, or closed() has run (narrowing on `state` does not survive an await). */
  private get gone(): boolean {
    return this.state === 'closed';
  }

  private after(ms: number, fn: () => void) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private async authorize(name: string, app: string) {
    if (this.state !== 'connecting' || this.socket.destroyed) return;
    this.state = 'authorizing';
    this.socket.pause(); // nothing more is read until the key is checked
    try {
      if (app !== 'live') throw new AppError('not-found', `Publish to the "live" application (rtmp://<host>/live), not "${app.slice(0, 100)}".`);
      // an address that spent its budget of wrong keys has its next ones refused unchecked, so keys cannot be guessed
      const budget = await this.ingest.keyFailures.take(this.address, 0);
      if (!budget.ok) throw rateLimited(`Too many wrong stream keys from ${this.address}; try again in ${Math.ceil(budget.retryAfterMs / 1000)} s.`, budget.retryAfterMs);
      let key: { channelId: string; slug: string; keyId: string };
      try {
        key = await this.ingest.host.authorize(name);
      } catch (err) {
        if (err instanceof AppError && err.status === 401) await this.ingest.keyFailures.take(this.address);
        throw err;
      }
      if (this.gone) return; // the client left while its key was checked: nothing to claim or answer
      if (!this.ingest.claim(key.channelId, this)) throw conflict('This channel is already live from another session.');
      this.key = key;
    } catch (err) {
      const reason = err instanceof AppError ? err.message : 'internal error';
      if (!(err instanceof AppError)) this.ingest.log.error({ err }, 'RTMP authorization failed');
      const logReason = err instanceof AppError && err.status === 401 ? 'unknown or revoked stream key' : reason;
      return this.refuse('NetStream.Publish.BadName', reason, logReason);
    }
    if (this.socket.destroyed) return;
    this.ingest.log.info({ channel: this.key.slug, remote: this.remote }, 'RTMP publisher accepted');
    this.state = 'probing';
    this.probeStarted = Date.now();
    this.rtmp.mediaAccepted = true;
    // a publisher that sends nothing (or never a keyframe) is judged when the probe's time is up, not never
    this.after(PROBE_MAX_MS, () => this.probed(true));
    this.rtmp.respondPublish();
    this.socket.resume();
  }

  /** Tells the client why (an onStatus error, which OBS shows) and closes the connection. */
  private refuse(code: string, description: string, logReason: string) {
    if (this.state === 'closed' || this.socket.destroyed) return;
    this.state = 'closed';
    this.ingest.note('publish-refused', 'warn', { remote: this.remote, app: String(this.rtmp.streamApp ?? '').slice(0, 100), reason: logReason }, 'RTMP publish refused');
    this.rtmp.sendStatusMessage(this.rtmp.streamId, 'error', code, description);
    this.socket.end();
    this.socket.resume(); // read (and drop) until the client hangs up, so that 'close' comes
    this.after(REFUSAL_LINGER_MS, () => this.socket.destroy());
  }

  private packet(raw: AVPacket) {
    if (this.socket.destroyed) return; // closed mid-buffer: node-media-server still parses the rest of it
    if (this.state === 'live') return this.forward(Flv.createMessage(raw));
    // a client that sends its media right behind the publish, without waiting for the answer, has it parsed while
    // the key is checked: its metadata and decoder configurations are kept (one of each, at most 64 KiB before the
    // publish is accepted), its frames dropped; a refusal drops them all
    const early = this.state === 'authorizing';
    if (!early && this.state !== 'probing' && this.state !== 'starting') return;
    const p = ownPacket(raw);
    if (p.codec_type === FLV_SCRIPT) this.metadata = p;
    else if (isVideoConfig(p)) this.videoConfig = p;
    else if (p.codec_type === FLV_AUDIO && p.flags === 0) this.audioConfig = p;
    else if (early) return;
    else if (isKeyframe(p) || (this.pending.length && (p.codec_type === FLV_AUDIO || p.codec_type === FLV_VIDEO))) this.hold(p);
    else if (p.codec_type === FLV_AUDIO && !this.videoConfig && Date.now() - this.probeStarted > PROBE_MAX_MS) this.hold(p); // audio only
    this.probed(false);
  }

  private hold(p: AVPacket) {
    this.pending.push(p);
    this.pendingBytes += p.size;
  }

  /** Starts the broadcast once the probe has seen enough: B-frames, enough frames, enough bytes, or its time is up. */
  private probed(timeUp: boolean) {
    if (this.state !== 'probing') return;
    const frames = this.pending.filter(isVideoFrame);
    const bframes = frames.some(reorders);
    const enough = bframes || frames.length >= PROBE_FRAMES || this.pendingBytes >= PROBE_MAX_BYTES;
    if (enough || timeUp || Date.now() - this.probeStarted > PROBE_MAX_MS) this.guard(this.start(bframes));
  }

  /** Writes a tag to the bridge; while FFmpeg has not read what it holds, nothing more is read from the publisher. */
  private forward(tag: Buffer) {
    if (this.bridge && !this.bridge.write(tag)) this.socket.pause();
  }

  /** A positive number the publisher's metadata declares (`videodatarate`, `framerate`), when it declares one. */
  private declared(field: 'videodatarate' | 'framerate'): number | undefined {
    if (!this.metadata) return undefined;
    try {
      const declared = Number(decodeAmf0Data(this.metadata.data).dataObj?.[field]);
      return Number.isFinite(declared) && declared > 0 ? declared : undefined;
    } catch {
      return undefined; // metadata is advice: unreadable, it is ignored
    }
  }

  private plan(bframes: boolean): { video: VideoPlan | undefined; audio: boolean } {
    const hasVideo = !!this.videoConfig || this.pending.some((p) => p.codec_type === FLV_VIDEO);
    const audio = !!this.audioConfig || this.pending.some((p) => p.codec_type === FLV_AUDIO);
    if (!hasVideo) return { video: undefined, audio };
    const declared = this.declared('videodatarate');
    const kbps = declared ? Math.min(8000, Math.max(500, Math.round(declared))) : 2500;
    const transcode = (reason: string): VideoPlan => ({ mode: 'transcode', reason, kbps });
    const codecId = (this.videoConfig ?? this.pending.find((p) => p.codec_type === FLV_VIDEO))!.codec_id;
    if (codecId !== FLV_CODEC_H264) return { video: transcode(`video codec ${codecId} is not H.264`), audio };
    const plid = this.videoConfig && avcProfileLevelId(this.videoConfig);
    if (!plid) return { video: transcode('no AVC decoder configuration'), audio };
    if (bframes) return { video: transcode('B-frames (frames are reordered)'), audio };
    if (!isConstrainedBaseline(plid)) return { video: transcode(`H.264 profile ${plid} is not Constrained Baseline, the one every browser decodes`), audio };
    const frameRate = frameRateOf(this.declared('framerate'), this.pending.filter(isVideoFrame));
    return { video: { mode: 'copy', profileLevelId: plid, ...(frameRate ? { frameRate } : {}) }, audio };
  }

  private async start(bframes: boolean) {
    this.state = 'starting';
    this.socket.pause(); // what arrives while the broadcast starts waits in the socket, not in `pending`
    const { video, audio } = this.plan(bframes);
    if (!video && !audio) return this.end('no audio or video');
    const tracks: PlainTrack[] = [];
    const bridge: BridgePlan = {};
    if (video) {
      const base = codecFor('video', 'video/H264');
      const profileLevelId = video.mode === 'copy' ? video.profileLevelId : '42e01f';
      const codec: ms.RtpCodecParameters = {
        mimeType: 'video/H264', payloadType: 102, clockRate: 90000,
        parameters: { ...base.parameters, 'profile-level-id': profileLevelId },
        rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
      };
      tracks.push({ kind: 'video', codec, ssrc: randomInt(1, 2 ** 31) });
    }
    if (audio) {
      const codec: ms.RtpCodecParameters = { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 };
      tracks.push({ kind: 'audio', codec, ssrc: randomInt(1, 2 ** 31) });
    }
    const ingest: IngestInfo = { source: 'rtmp', video: video?.mode ?? 'none', ...(video?.mode === 'transcode' ? { reason: video.reason } : {}) };
    try {
      const live = await this.ingest.host.start(this.key!, tracks, ingest);
      this.room = live.room;
      this.sessionId = live.sessionId;
      tracks.forEach((t, i) => {
        const out = { ...live.ports[i]!, payloadType: t.codec.payloadType, ssrc: t.ssrc };
        if (t.kind === 'video') bridge.video = { ...video!, ...out };
        else bridge.audio = out;
      });
    } catch (err) {
      const reason = err instanceof AppError ? err.message : 'internal error';
      if (!(err instanceof AppError)) this.ingest.log.error({ err }, 'RTMP broadcast could not start');
      return this.refuse('NetStream.Publish.Failed', reason, reason);
    }
    // no wait for the recorder: the room's recording feed holds the tracks from their first packet until it attaches
    // (a copied stream cannot make a keyframe on request; its first one is the recording's start)
    if (this.socket.destroyed) return this.room.publisherLost(this.sessionId, 'publisher left while starting');
    const log = this.ingest.log.child({ channel: this.key!.slug });
    this.bridge = new FfmpegBridge(bridge, log);
    this.bridge.onFailure = (reason) => this.end(reason);
    this.bridge.onDrain = () => {
      if (this.state === 'live') this.socket.resume();
    };
    log.info({ session: this.sessionId, ...ingest, ffmpeg: this.bridge.pid }, 'RTMP broadcast bridged');
    const room = this.room;
    const onClose = () => this.end('broadcast ended');
    const onLost = () => this.end('publisher lost');
    room.once('close', onClose);
    room.on('publisher-lost', onLost);
    this.detach = () => {
      room.off('close', onClose);
      room.off('publisher-lost', onLost);
    };
    this.state = 'live';
    this.bridge.write(Flv.createHeader(!!audio, !!video));
    for (const p of [this.metadata, this.videoConfig, this.audioConfig, ...this.pending]) if (p) this.forward(Flv.createMessage(p));
    this.pending = [];
    this.pendingBytes = 0;
    if (this.bridge.writable) this.socket.resume();
  }

  /** Closes the connection; the socket's close handler ends or suspends the broadcast. */
  end(reason: string) {
    if (this.socket.destroyed) return;
    this.endReason ??= reason;
    const fields = { remote: this.remote, channel: this.key?.slug, reason };
    // a publisher's connection is worth a line each time; a stranger's only within the log budget
    if (this.key) this.ingest.log.info(fields, 'RTMP connection closing');
    else this.ingest.note('closing', 'info', fields, 'RTMP connection closing');
    this.socket.destroy();
  }

  private async closed() {
    const wasLive = this.state === 'live' || this.state === 'starting';
    this.state = 'closed';
    if (this.key) this.ingest.unclaim(this.key.channelId, this);
    this.pending = [];
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.detach();
    try {
      // FFmpeg first sends what it holds (a re-encode's last frames in its decoder and encoder), then the broadcast
      // ends: ended at once, the recording lost its last ~0.1–0.3 s
      await this.bridge?.stop();
      if (wasLive && this.room && this.sessionId && !this.room.isClosed) {
        const reason = this.endReason ?? 'RTMP connection closed';
        // a publisher that said it is done ends the broadcast; a dropped one may reconnect within the grace period
        if (this.unpublished) this.room.endPublisher(this.sessionId, reason);
        else this.room.publisherLost(this.sessionId, reason);
      }
    } finally {
      this.resolveStopped();
    }
  }
}
