// A non-decoding WHEP viewer for the viewer farm (bench/farm.ts): werift, a WebRTC stack in TypeScript, negotiates
// over WHEP (POST offer, answer, DELETE on stop), takes every RTP packet off the wire and keeps counters from its
// header alone (no depacketizing, no decoding), and sends receiver reports and NACKs as a browser does, so the SFU
// sees loss and retransmits. Hundreds of these fit where a handful of decoding Chromium pages would.
//
// The offer numbers its codecs as Chromium does (Opus 111, VP8 96 with RTX 97): mediasoup forwards with its router's
// payload types, so a viewer numbering differently is served by other branch routers fed by pipes (sfu/Fanout.ts).
// Numbered as Chromium, the farm's viewers and a Chromium viewer beside them share one router, as a real audience does.
import { RTCPeerConnection, RTCRtpCodecParameters, type RtpPacket } from 'werift';

/** What one viewer measured; counters only grow, so a window is the difference of two snapshots. */
export type ClientStats = {
  /** ms from the WHEP POST to the first video packet; undefined while none came */
  ttffMs: number | undefined;
  videoPackets: number;
  /** video packets the sequence numbers say were sent (highest − first + 1, across wraps) */
  videoExpected: number;
  audioPackets: number;
  /** RTP bytes (header + payload) of both kinds */
  bytes: number;
  /** RFC 3550 interarrival jitter of the video stream, ms */
  jitterMs: number;
  /** times no video packet with a new timestamp (a new frame) came for FREEZE_MS */
  freezes: number;
};

/** A gap between frames this long is a freeze (a viewer sees the picture stop). */
export const FREEZE_MS = 500;

const VIDEO_CLOCK = 90_000;

/** Chromium's numbering and feedback for what the SFU forwards (Opus, VP8 + RTX). */
const CHROMIUM_CODECS = {
  audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, parameters: 'minptime=10;useinbandfec=1' })],
  video: [
    new RTCRtpCodecParameters({
      mimeType: 'video/VP8',
      clockRate: VIDEO_CLOCK,
      payloadType: 96,
      rtcpFeedback: [{ type: 'ccm', parameter: 'fir' }, { type: 'nack' }, { type: 'nack', parameter: 'pli' }],
    }),
    new RTCRtpCodecParameters({ mimeType: 'video/rtx', clockRate: VIDEO_CLOCK, payloadType: 97, parameters: 'apt=96' }),
  ],
};

/** Header-only counters of one video stream: sequence numbers (loss), timestamps (frames, freezes), arrival (jitter). */
class VideoCounter {
  packets = 0;
  private firstSeq = -1;
  private highest = -1; // extended (wraps counted)
  private lastTimestamp = -1;
  private lastFrameAt = 0;
  freezes = 0;
  private jitter = 0; // in RTP clock units, RFC 3550 §6.4.1
  private lastTransit: number | undefined;

  add(seq: number, timestamp: number, now: number) {
    this.packets++;
    if (this.firstSeq < 0) {
      this.firstSeq = this.highest = seq;
    } else {
      // the extended sequence number nearest the highest seen: a retransmission or reordering lands behind it
      const cycle = this.highest - (this.highest & 0xffff);
      let ext = cycle + seq;
      if (ext < this.highest - 0x8000) ext += 0x10000;
      else if (ext > this.highest + 0x8000) ext -= 0x10000;
      if (ext > this.highest) this.highest = ext;
    }
    if (timestamp !== this.lastTimestamp) {
      if (this.lastFrameAt && now - this.lastFrameAt >= FREEZE_MS) this.freezes++;
      this.lastTimestamp = timestamp;
      this.lastFrameAt = now;
    }
    const transit = (now * VIDEO_CLOCK) / 1000 - timestamp;
    if (this.lastTransit !== undefined) {
      let d = Math.abs(transit - this.lastTransit);
      if (d > 0x80000000) d = 0x100000000 - d; // the 32-bit timestamp wrapped
      this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  get expected() {
    return this.firstSeq < 0 ? 0 : this.highest - this.firstSeq + 1;
  }

  get jitterMs() {
    return (this.jitter / VIDEO_CLOCK) * 1000;
  }

  /** A freeze still going on counts too (the stream stopped and never came back). */
  freezesAt(now: number) {
    return this.freezes + (this.lastFrameAt && now - this.lastFrameAt >= FREEZE_MS ? 1 : 0);
  }
}

/** One WHEP viewer of `slug` on the SFU at `base` (http://host:port); stop() ends its session. */
export class FarmClient {
  private readonly pc = new RTCPeerConnection({
    codecs: CHROMIUM_CODECS,
    // the SFU is on loopback: its candidate is 127.0.0.1, which werift leaves out of its own unless asked
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    // one transport for both m-sections from the start, as the SFU bundles them: otherwise werift gathers a
    // transport per section and leaves the one bundled away open after close() (its sockets keep a process alive)
    bundlePolicy: 'max-bundle',
  });
  private readonly video = new VideoCounter();
  private audioPackets = 0;
  private bytes = 0;
  private startedAt = 0;
  private firstVideoAt: number | undefined;
  private location: string | undefined;
  private stopped = false;

  constructor(
    private readonly base: string,
    private readonly slug: string,
  ) {}

  /** Sends the offer and applies the answer; throws with the SFU's status and body when it refuses. */
  async start(): Promise<void> {
    this.pc.addTransceiver('audio', { direction: 'recvonly' });
    this.pc.addTransceiver('video', { direction: 'recvonly' });
    this.pc.onTrack.subscribe((track) => {
      const kind = track.kind;
      track.onReceiveRtp.subscribe((rtp: RtpPacket) => this.onRtp(kind, rtp));
    });
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.gathered();
    this.startedAt = performance.now();
    const res = await fetch(`${this.base}/whep/${this.slug}`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: this.pc.localDescription!.sdp });
    const body = await res.text();
    if (res.status !== 201) throw new Error(`WHEP ${res.status}: ${body.slice(0, 300)}`);
    this.location = res.headers.get('location') ?? undefined;
    await this.pc.setRemoteDescription({ type: 'answer', sdp: body });
  }

  private gathered() {
    return new Promise<void>((resolve) => {
      if (this.pc.iceGatheringState === 'complete') return resolve();
      const sub = this.pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && (sub.unSubscribe(), resolve()));
      setTimeout(resolve, 3000);
    });
  }

  private onRtp(kind: string, rtp: RtpPacket) {
    const now = performance.now();
    this.bytes += rtp.payload.length + 12 + rtp.header.csrc.length * 4;
    if (kind === 'audio') {
      this.audioPackets++;
      return;
    }
    this.firstVideoAt ??= now;
    this.video.add(rtp.header.sequenceNumber, rtp.header.timestamp, now);
  }

  stats(): ClientStats {
    return {
      ttffMs: this.firstVideoAt === undefined ? undefined : this.firstVideoAt - this.startedAt,
      videoPackets: this.video.packets,
      videoExpected: this.video.expected,
      audioPackets: this.audioPackets,
      bytes: this.bytes,
      jitterMs: this.video.jitterMs,
      freezes: this.video.freezesAt(performance.now()),
    };
  }

  /** Ends the WHEP session (DELETE its Location) and the peer connection; safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.location) await fetch(new URL(this.location, this.base), { method: 'DELETE' }).then((r) => r.body?.cancel(), () => undefined);
    await this.pc.close();
  }
}
