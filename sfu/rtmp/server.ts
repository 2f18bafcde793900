// RTMP ingest for OBS and FFmpeg: `rtmp://<host>:1935/live` with the stream key as the stream name.
// node-media-server's RTMP protocol state machine (handshake, chunking, AMF commands) runs on Glint's own TCP server,
// so that the key is checked before the publish is acknowledged and before any media is accepted. Each accepted
// publisher is probed for a moment (codec, profile, B-frames), then its FLV tags go through an FFmpeg bridge into the
// room's plain RTP transports: the same live session, events and viewers as a WHIP broadcast.
import net from 'node:net';
import { randomInt } from 'node:crypto';
import Rtmp from 'node-media-server/src/protocol/rtmp.js';
import Flv from 'node-media-server/src/protocol/flv.js';
import nmsLogger from 'node-media-server/src/core/logger.js';
import { decodeAmf0Data } from 'node-media-server/src/protocol/amf.js';
import type AVPacket from 'node-media-server/src/core/avpacket.js';
import type { types as ms } from 'mediasoup';
import { AppError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { MEDIA_CODECS } from '../codecs.ts';
import type { PlainTrack, Room } from '../Room.ts';
import { FfmpegBridge, type BridgePlan, type VideoPlan } from './bridge.ts';
import { FLV_AUDIO, FLV_CODEC_H264, FLV_SCRIPT, FLV_VIDEO, avcProfileLevelId, isConstrainedBaseline, isKeyframe, isVideoConfig, isVideoFrame, ownPacket, reorders } from './flv.ts';

nmsLogger.level = 'error'; // it logs to stdout with console.log; Glint logs what matters itself

/** What the SFU provides to RTMP publishers. */
export type RtmpHost = {
  /** Checks the stream key (and that the channel can go live); throws an AppError (401, 409) to refuse. */
  authorize(streamKey: string): Promise<{ channelId: string; slug: string; keyId: string }>;
  /** Goes live (or resumes within the grace period) with plain RTP tracks; returns the ports to send them to. */
  start(key: { channelId: string; slug: string; keyId: string }, tracks: PlainTrack[], ingest: IngestInfo): Promise<{ room: Room; sessionId: string; ports: { rtp: number; rtcp: number }[] }>;
};

/** How an RTMP broadcast is bridged, shown on the live session (for the streamer and the operator). */
export type IngestInfo = { source: 'rtmp'; video: 'copy' | 'transcode' | 'none'; reason?: string };

/** How long the bridge watches a new stream before it chooses copy or re-encode. */
const PROBE_FRAMES = 10;
const PROBE_MAX_MS = 3000;
/** Unacknowledged bytes before a publisher is cut off: a stalled connection must not hold the channel. */
const IDLE_TIMEOUT_MS = 10_000;

const codecFor = (kind: 'audio' | 'video', mime: string) => MEDIA_CODECS.find((c) => c.kind === kind && c.mimeType === mime)!;

export class RtmpServer {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly connections = new Set<RtmpConnection>();

  constructor(
    private readonly host: RtmpHost,
    private readonly log: Logger,
  ) {}

  async listen(port: number, hostname: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, hostname, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address() as net.AddressInfo;
    this.log.info({ port: addr.port, host: hostname }, 'RTMP ingest listening');
    return addr.port;
  }

  private accept(socket: net.Socket) {
    const conn = new RtmpConnection(socket, this.host, this.log);
    this.connections.add(conn);
    socket.once('close', () => this.connections.delete(conn));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const c of this.connections) c.end('server shutting down');
    });
    await Promise.all([...this.connections].map((c) => c.stopped));
  }
}

class RtmpConnection {
  private readonly rtmp = new GlintRtmp();
  private state: 'connecting' | 'authorizing' | 'probing' | 'starting' | 'live' | 'closed' = 'connecting';
  private key: { channelId: string; slug: string; keyId: string } | undefined;
  /** tags held while probing: the last metadata, the decoder configurations, and everything from the first keyframe */
  private metadata: AVPacket | undefined;
  private videoConfig: AVPacket | undefined;
  private audioConfig: AVPacket | undefined;
  private pending: AVPacket[] = [];
  private probeStarted = 0;
  private bridge: FfmpegBridge | undefined;
  private room: Room | undefined;
  private sessionId: string | undefined;
  /** the publisher said it is done (deleteStream / FCUnpublish): the broadcast ends now, no grace period */
  private unpublished = false;
  private endReason: string | undefined;
  private detach: () => void = () => undefined;
  private readonly remote: string;
  readonly stopped: Promise<void>;
  private resolveStopped!: () => void;

  constructor(
    private readonly socket: net.Socket,
    private readonly host: RtmpHost,
    private readonly log: Logger,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.stopped = new Promise((r) => (this.resolveStopped = r));
    socket.setNoDelay(true);
    socket.setTimeout(IDLE_TIMEOUT_MS, () => this.end('connection idle'));
    this.rtmp.onOutputCallback = (buf) => {
      if (!socket.destroyed) socket.write(buf);
    };
    this.rtmp.onPublishRequest = (name, app) => void this.authorize(name, app);
    this.rtmp.onPlayRequest = () => this.refuse('NetStream.Play.Failed', 'Glint does not play over RTMP; watch over WebRTC (WHEP) or HLS.', 'play attempted');
    this.rtmp.onUnpublish = () => {
      this.unpublished = true;
      this.end('publisher stopped');
    };
    this.rtmp.onPacketCallback = (p) => this.packet(p);
    socket.on('data', (data) => {
      const err = this.rtmp.parserData(data);
      if (err) this.end(`not RTMP: ${err}`);
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.once('close', () => void this.closed());
  }

  private async authorize(name: string, app: string) {
    if (this.state !== 'connecting') return;
    this.state = 'authorizing';
    this.socket.pause(); // nothing more is read until the key is checked
    try {
      if (app !== 'live') throw new AppError('not-found', `Publish to the "live" application (rtmp://<host>/live), not "${app}".`);
      this.key = await this.host.authorize(name);
    } catch (err) {
      const reason = err instanceof AppError ? err.message : 'internal error';
      if (!(err instanceof AppError)) this.log.error({ err }, 'RTMP authorization failed');
      return this.refuse('NetStream.Publish.BadName', reason, err instanceof AppError && err.status === 401 ? 'unknown or revoked stream key' : reason);
    }
    if (this.socket.destroyed) return;
    this.log.info({ channel: this.key.slug, remote: this.remote }, 'RTMP publisher accepted');
    this.state = 'probing';
    this.probeStarted = Date.now();
    this.rtmp.respondPublish();
    this.socket.resume();
  }

  /** Tells the client why (an onStatus error, which OBS shows) and closes the connection. */
  private refuse(code: string, description: string, logReason: string) {
    this.log.warn({ remote: this.remote, app: this.rtmp.streamApp, reason: logReason }, 'RTMP publish refused');
    this.rtmp.sendStatusMessage(this.rtmp.streamId, 'error', code, description);
    this.state = 'closed';
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private packet(raw: AVPacket) {
    if (this.state === 'live') return this.bridge?.write(Flv.createMessage(raw));
    if (this.state !== 'probing' && this.state !== 'starting') return; // nothing is accepted before the key is checked
    const p = ownPacket(raw);
    if (p.codec_type === FLV_SCRIPT) this.metadata = p;
    else if (isVideoConfig(p)) this.videoConfig = p;
    else if (p.codec_type === FLV_AUDIO && p.flags === 0) this.audioConfig = p;
    else if (isKeyframe(p) || (this.pending.length && (p.codec_type === FLV_AUDIO || p.codec_type === FLV_VIDEO))) this.pending.push(p);
    else if (p.codec_type === FLV_AUDIO && !this.videoConfig && Date.now() - this.probeStarted > PROBE_MAX_MS) this.pending.push(p); // audio only
    if (this.state !== 'probing') return;
    const frames = this.pending.filter(isVideoFrame);
    const bframes = frames.some(reorders);
    if (bframes || frames.length >= PROBE_FRAMES || Date.now() - this.probeStarted > PROBE_MAX_MS) void this.start(bframes);
  }

  private plan(bframes: boolean): { video: VideoPlan | undefined; audio: boolean } {
    const hasVideo = !!this.videoConfig || this.pending.some((p) => p.codec_type === FLV_VIDEO);
    const audio = !!this.audioConfig || this.pending.some((p) => p.codec_type === FLV_AUDIO);
    if (!hasVideo) return { video: undefined, audio };
    const meta = this.metadata ? decodeAmf0Data(this.metadata.data).dataObj : undefined;
    const declared = Number(meta?.videodatarate);
    const kbps = Number.isFinite(declared) && declared > 0 ? Math.min(8000, Math.max(500, Math.round(declared))) : 2500;
    const transcode = (reason: string): VideoPlan => ({ mode: 'transcode', reason, kbps });
    const codecId = (this.videoConfig ?? this.pending.find((p) => p.codec_type === FLV_VIDEO))!.codec_id;
    if (codecId !== FLV_CODEC_H264) return { video: transcode(`video codec ${codecId} is not H.264`), audio };
    const plid = this.videoConfig && avcProfileLevelId(this.videoConfig);
    if (!plid) return { video: transcode('no AVC decoder configuration'), audio };
    if (bframes) return { video: transcode('B-frames (frames are reordered)'), audio };
    if (!isConstrainedBaseline(plid)) return { video: transcode(`H.264 profile ${plid} is not Constrained Baseline, the one every browser decodes`), audio };
    return { video: { mode: 'copy', profileLevelId: plid }, audio };
  }

  private async start(bframes: boolean) {
    this.state = 'starting';
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
      const live = await this.host.start(this.key!, tracks, ingest);
      this.room = live.room;
      this.sessionId = live.sessionId;
      tracks.forEach((t, i) => {
        const out = { ...live.ports[i]!, payloadType: t.codec.payloadType, ssrc: t.ssrc };
        if (t.kind === 'video') bridge.video = { ...video!, ...out };
        else bridge.audio = out;
      });
    } catch (err) {
      const reason = err instanceof AppError ? err.message : 'internal error';
      if (!(err instanceof AppError)) this.log.error({ err }, 'RTMP broadcast could not start');
      return this.refuse('NetStream.Publish.Failed', reason, reason);
    }
    if (this.socket.destroyed) return this.room.publisherLost(this.sessionId, 'publisher left while starting');
    this.bridge = new FfmpegBridge(bridge, this.log.child({ channel: this.key!.slug }));
    this.bridge.onFailure = (reason) => this.end(reason);
    this.log.info({ channel: this.key!.slug, session: this.sessionId, ...ingest, ffmpeg: this.bridge.pid }, 'RTMP broadcast bridged');
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
    for (const p of [this.metadata, this.videoConfig, this.audioConfig, ...this.pending]) if (p) this.bridge.write(Flv.createMessage(p));
    this.pending = [];
  }

  /** Closes the connection; the socket's close handler ends or suspends the broadcast. */
  end(reason: string) {
    if (this.socket.destroyed) return;
    this.log.info({ remote: this.remote, channel: this.key?.slug, reason }, 'RTMP connection closing');
    this.endReason ??= reason;
    this.socket.destroy();
  }

  private async closed() {
    const wasLive = this.state === 'live' || this.state === 'starting';
    this.state = 'closed';
    this.pending = [];
    this.detach();
    const stopping = this.bridge?.stop();
    if (wasLive && this.room && this.sessionId && !this.room.isClosed) {
      const reason = this.endReason ?? 'RTMP connection closed';
      // a publisher that said it is done ends the broadcast; a dropped one may reconnect within the grace period
      if (this.unpublished) this.room.endPublisher(this.sessionId, reason);
      else this.room.publisherLost(this.sessionId, reason);
    }
    await stopping;
    this.resolveStopped();
  }
}

/**
 * node-media-server acknowledges a publish before it tells anyone; Glint checks the key first, answers only then,
 * refuses RTMP playback, and hears the publisher's own end of stream.
 */
class GlintRtmp extends Rtmp {
  onPublishRequest: (streamName: string, app: string) => void = () => undefined;
  onPlayRequest: () => void = () => undefined;
  onUnpublish: () => void = () => undefined;

  override onPublish(msg: { streamName: string }) {
    this.streamName = String(msg.streamName ?? '').split('?')[0]!;
    this.streamId = this.parserPacket.header.stream_id;
    this.onPublishRequest(this.streamName, this.streamApp);
  }

  override onPlay() {
    this.streamId = this.parserPacket.header.stream_id;
    this.onPlayRequest();
  }

  override onDeleteStream() {
    this.onUnpublish();
  }
}
