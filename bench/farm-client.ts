// A non-decoding WHEP viewer for the viewer farm (bench/farm.ts): werift, a WebRTC stack in TypeScript, negotiates
// over WHEP (POST offer, answer, DELETE on stop) with real ICE and DTLS, then keeps counters from each RTP packet's
// header alone. SRTP encrypts the payload but not the RTP header (RFC 3711 §3.1), so sequence number, timestamp,
// marker and SSRC are read off the wire without decrypting: werift's SRTP (AES in JavaScript, per packet) was what
// made the farm, not the SFU, saturate the machine. The viewer still answers as a browser does: a receiver report per
// stream every second (loss, highest sequence, jitter, from the headers) and a NACK for every gap; only the rare RTX
// retransmission is decrypted, to read which packet it carries (its original sequence number is in the payload), and
// the SFU's RTCP (a few packets a second), so the reports carry LSR/DLSR and the SFU measures a round-trip time as it
// does for a browser. What it cannot do without decrypting: check the SRTP authentication tag of media packets (a
// forged packet on the wire would be counted; on loopback there is none). `decrypt: true` runs werift's whole receive
// path instead (decrypt, depacketize, its own NACKs and reports), to compare what the shortcut saves.
//
// The offer numbers its codecs as Chromium does (Opus 111, VP8 96 with RTX 97): mediasoup forwards with its router's
// payload types, so a viewer numbering differently is served by other branch routers fed by pipes (sfu/Fanout.ts).
// Numbered as Chromium, the farm's viewers and a Chromium viewer beside them share one router, as a real audience does.
import {
  GenericNack,
  isMedia,
  isRtcp,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtcpPacketConverter,
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpSrPacket,
  RtcpTransportLayerFeedback,
  RtpPacket,
  type RTCDtlsTransport,
} from 'werift';

/** What one viewer measured; counters only grow, so a window is the difference of two snapshots. */
export type ClientStats = {
  /** ms from the WHEP POST to the first video packet; undefined while none came */
  ttffMs: number | undefined;
  /** distinct video packets received: first transmissions, late arrivals and those an RTX retransmission recovered */
  videoPackets: number;
  /** video packets the sequence numbers say were sent (highest − first + 1, across wraps) */
  videoExpected: number;
  /** of videoPackets, those recovered by a retransmission (RTX) after a NACK */
  videoRecovered: number;
  /** video frames: packets with the marker bit (the last packet of a frame) */
  videoFrames: number;
  audioPackets: number;
  /** bytes of media received as they came off the wire (SRTP: header, payload, tag), both kinds and RTX */
  bytes: number;
  /** RFC 3550 interarrival jitter of the video stream, ms */
  jitterMs: number;
  /** times no video packet with a new timestamp (a new frame) came for FREEZE_MS */
  freezes: number;
  /** NACKs sent (sequence numbers asked for again) and receiver reports sent */
  nacked: number;
  reports: number;
};

/** A gap between frames this long is a freeze (a viewer sees the picture stop). */
export const FREEZE_MS = 500;

const VIDEO_CLOCK = 90_000;
const AUDIO_CLOCK = 48_000;
const PT = { audio: 111, video: 96, rtx: 97 } as const;
/** H.264 as Chromium numbers it (baseline and constrained baseline, each with its RTX): what an RTMP broadcast forwards */
const H264_PT = [
  { video: 102, rtx: 103, profile: '42001f' },
  { video: 104, rtx: 105, profile: '42e01f' },
] as const;
const VIDEO_PTS = new Set<number>([PT.video, ...H264_PT.map((h) => h.video)]);
const RTX_PTS = new Set<number>([PT.rtx, ...H264_PT.map((h) => h.rtx)]);
const videoFeedback = [{ type: 'ccm', parameter: 'fir' }, { type: 'nack' }, { type: 'nack', parameter: 'pli' }];
/** How often receiver reports go out (a browser sends them about every second). */
const REPORT_MS = 1000;
/** Sequence numbers a gap may ask for again at most: a longer gap (a stall, a restart) is not worth NACKing. */
const MAX_NACK_GAP = 256;
/** How far behind the highest sequence number a missing packet is still waited for (late, or retransmitted). */
const MISSING_WINDOW = 2048;

/** Chromium's numbering and feedback for what the SFU forwards (Opus; VP8, or H.264 from RTMP; each with RTX). */
const CHROMIUM_CODECS = {
  audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: AUDIO_CLOCK, channels: 2, payloadType: PT.audio, parameters: 'minptime=10;useinbandfec=1' })],
  video: [
    new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: VIDEO_CLOCK, payloadType: PT.video, rtcpFeedback: videoFeedback }),
    new RTCRtpCodecParameters({ mimeType: 'video/rtx', clockRate: VIDEO_CLOCK, payloadType: PT.rtx, parameters: `apt=${PT.video}` }),
    ...H264_PT.flatMap((h) => [
      new RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: VIDEO_CLOCK, payloadType: h.video, rtcpFeedback: videoFeedback, parameters: `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${h.profile}` }),
      new RTCRtpCodecParameters({ mimeType: 'video/rtx', clockRate: VIDEO_CLOCK, payloadType: h.rtx, parameters: `apt=${h.video}` }),
    ]),
  ],
};

/** The RTP header fields the farm reads, from a packet as it came off the wire (SRTP leaves the header in clear). */
export type RtpHeader = { payloadType: number; marker: boolean; seq: number; timestamp: number; ssrc: number };

/** Parses the fixed RTP header (RFC 3550 §5.1); undefined for anything shorter or not RTP version 2. */
export function readRtpHeader(b: Uint8Array): RtpHeader | undefined {
  if (b.length < 12 || b[0]! >> 6 !== 2) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { payloadType: b[1]! & 0x7f, marker: (b[1]! & 0x80) !== 0, seq: v.getUint16(2), timestamp: v.getUint32(4), ssrc: v.getUint32(8) };
}

/** Header-only counters of one RTP stream: sequence numbers (loss, gaps to NACK), timestamps (frames, freezes),
 * arrival (jitter), and what an RFC 3550 receiver report says about it. */
export class StreamCounter {
  /** distinct packets received (a duplicate is not counted twice) */
  packets = 0;
  recovered = 0;
  frames = 0;
  freezes = 0;
  private firstSeq = -1;
  private highest = -1; // extended (wraps counted)
  /** extended sequence numbers skipped over and not (yet) received */
  private readonly missing = new Set<number>();
  private prunedAt = 0;
  private lastTimestamp = -1;
  private lastFrameAt = 0;
  private jitter = 0; // in RTP clock units, RFC 3550 §6.4.1
  private lastTransit: number | undefined;
  private readonly reported = { expected: 0, received: 0 };
  /** the middle 32 bits of the NTP time of the last sender report for this stream, and when (ms) it came */
  private lastSr: { lsr: number; at: number } | undefined;

  constructor(private readonly clock: number) {}

  /** The extended sequence number nearest the highest seen: a retransmission or reordering lands behind it. */
  private extend(seq: number) {
    const cycle = this.highest - (this.highest & 0xffff);
    let ext = cycle + seq;
    if (ext < this.highest - 0x8000) ext += 0x10000;
    else if (ext > this.highest + 0x8000) ext -= 0x10000;
    return ext;
  }

  /** Counts one packet arriving at `now` (ms); returns the sequence numbers (16-bit) it showed missing, to NACK. */
  add(seq: number, timestamp: number, marker: boolean, now: number): number[] {
    const gap: number[] = [];
    if (this.firstSeq < 0) {
      this.firstSeq = this.highest = seq;
    } else {
      const ext = this.extend(seq);
      if (ext > this.highest) {
        if (ext - this.highest - 1 <= MAX_NACK_GAP) for (let s = this.highest + 1; s < ext; s++) gap.push(s & 0xffff);
        for (let s = Math.max(this.highest + 1, ext - MISSING_WINDOW); s < ext; s++) this.missing.add(s);
        this.highest = ext;
        if (ext - this.prunedAt >= MAX_NACK_GAP) {
          this.prunedAt = ext;
          for (const s of this.missing) if (s < ext - MISSING_WINDOW) this.missing.delete(s); // given up: stays lost
        }
      } else if (!this.missing.delete(ext)) {
        return gap; // a duplicate (or older than the window): nothing new
      }
    }
    this.packets++;
    if (marker) this.frames++;
    if (timestamp !== this.lastTimestamp) {
      if (this.lastFrameAt && now - this.lastFrameAt >= FREEZE_MS) this.freezes++;
      this.lastTimestamp = timestamp;
      this.lastFrameAt = now;
    }
    const transit = (now * this.clock) / 1000 - timestamp;
    if (this.lastTransit !== undefined) {
      let d = Math.abs(transit - this.lastTransit);
      if (d > 0x80000000) d = 0x100000000 - d; // the 32-bit timestamp wrapped
      this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
    return gap;
  }

  /** A retransmission carried `seq`: counted if it was missing (not if the original came after all). */
  recover(seq: number) {
    if (this.firstSeq < 0 || !this.missing.delete(this.extend(seq))) return;
    this.packets++;
    this.recovered++;
  }

  get expected() {
    return this.firstSeq < 0 ? 0 : this.highest - this.firstSeq + 1;
  }

  get jitterMs() {
    return (this.jitter / this.clock) * 1000;
  }

  /** A freeze still going on counts too (the stream stopped and never came back). */
  freezesAt(now: number) {
    return this.freezes + (this.lastFrameAt && now - this.lastFrameAt >= FREEZE_MS ? 1 : 0);
  }

  /** A sender report for this stream came at `now` (ms) with this 64-bit NTP timestamp. */
  senderReport(ntp: bigint, now: number) {
    this.lastSr = { lsr: Number((ntp >> 16n) & 0xffffffffn), at: now };
  }

  /** The report block for this stream at `now` (RFC 3550 §6.4.1): loss since the previous one, and LSR/DLSR
   * (delay since the last sender report, 1/65536 s) from which the sender computes the round-trip time. */
  report(ssrc: number, now: number): RtcpReceiverInfo {
    const expected = this.expected - this.reported.expected;
    const received = this.packets - this.reported.received;
    this.reported.expected = this.expected;
    this.reported.received = this.packets;
    const lostNow = expected - received;
    const cumulative = Math.max(-0x800000, Math.min(0x7fffff, this.expected - this.packets));
    return new RtcpReceiverInfo({
      ssrc,
      fractionLost: expected > 0 && lostNow > 0 ? Math.min(255, Math.floor((lostNow * 256) / expected)) : 0,
      packetsLost: cumulative & 0xffffff, // 24-bit two's complement
      highestSequence: Math.max(0, this.highest) >>> 0,
      jitter: Math.floor(this.jitter),
      lsr: this.lastSr?.lsr ?? 0,
      dlsr: this.lastSr ? Math.floor(((now - this.lastSr.at) / 1000) * 65536) : 0,
    });
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
  private readonly video = new StreamCounter(VIDEO_CLOCK);
  private readonly audio = new StreamCounter(AUDIO_CLOCK);
  /** the media SSRCs the SFU sends from, learnt from the packets (the answer's a=ssrc lines say the same) */
  private readonly ssrcs = { video: 0, audio: 0 };
  private readonly rtcpSsrc = (Math.random() * 0xffffffff) >>> 0;
  private bytes = 0;
  private nacked = 0;
  private reports = 0;
  private reportTimer: ReturnType<typeof setInterval> | undefined;
  private startedAt = 0;
  private firstVideoAt: number | undefined;
  private location: string | undefined;
  private stopped = false;

  constructor(
    private readonly base: string,
    private readonly slug: string,
    private readonly options: { decrypt?: boolean } = {},
  ) {}

  /** Sends the offer and applies the answer; throws with the SFU's status and body when it refuses. */
  async start(): Promise<void> {
    this.pc.addTransceiver('audio', { direction: 'recvonly' });
    this.pc.addTransceiver('video', { direction: 'recvonly' });
    if (this.options.decrypt) {
      this.pc.onTrack.subscribe((track) => {
        const kind = track.kind as 'audio' | 'video';
        track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
          this.bytes += rtp.serializeSize;
          this.count(kind, rtp.header.sequenceNumber, rtp.header.timestamp, rtp.header.marker);
        });
      });
    }
    await this.pc.setLocalDescription(await this.pc.createOffer());
    if (!this.options.decrypt) for (const t of this.pc.dtlsTransports) this.readHeadersOnly(t);
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

  /** Takes over what werift does once DTLS has completed: keys for SRTP/SRTCP, but media read from the clear
   * header instead of decrypted, and the reports and NACKs sent from this client's own counters. */
  private readHeadersOnly(t: RTCDtlsTransport) {
    t.startSrtp = () => {
      if (t.srtpStarted) return;
      t.srtpStarted = true;
      t.updateSrtpSession();
      t.iceTransport.connection.onData.subscribe((data: Buffer) => {
        if (!isMedia(data)) return;
        if (isRtcp(data)) return this.onRtcp(t, data);
        this.bytes += data.length;
        const h = readRtpHeader(data);
        if (!h) return;
        if (RTX_PTS.has(h.payloadType)) return this.onRetransmission(t, data);
        const kind = VIDEO_PTS.has(h.payloadType) ? 'video' : h.payloadType === PT.audio ? 'audio' : undefined;
        if (!kind) return;
        this.ssrcs[kind] = h.ssrc;
        const gap = this.count(kind, h.seq, h.timestamp, h.marker);
        if (kind === 'video' && gap.length) void this.send(t, [new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: this.rtcpSsrc, mediaSourceSsrc: h.ssrc, lost: gap }) })]).then(() => (this.nacked += gap.length));
      });
      this.reportTimer = setInterval(() => {
        const now = performance.now();
        const reports = (['video', 'audio'] as const).filter((k) => this.ssrcs[k]).map((k) => this[k].report(this.ssrcs[k], now));
        if (reports.length) void this.send(t, [new RtcpRrPacket({ ssrc: this.rtcpSsrc, reports })]).then(() => this.reports++);
      }, REPORT_MS);
    };
  }

  /** An RTX packet (RFC 4588): its payload starts with the original sequence number, so this one is decrypted. */
  private onRetransmission(t: RTCDtlsTransport, data: Buffer) {
    try {
      const rtx = RtpPacket.deSerialize(t.srtp.decrypt(data));
      if (rtx.payload.length >= 2) this.video.recover(rtx.payload.readUInt16BE(0));
    } catch {
      // a packet that fails authentication is dropped, as werift drops it
    }
  }

  /** The SFU's RTCP: its sender reports are what the receiver reports' LSR/DLSR answer. */
  private onRtcp(t: RTCDtlsTransport, data: Buffer) {
    try {
      for (const p of RtcpPacketConverter.deSerialize(t.srtcp.decrypt(data))) {
        if (!(p instanceof RtcpSrPacket)) continue;
        const kind = p.ssrc === this.ssrcs.video ? 'video' : p.ssrc === this.ssrcs.audio ? 'audio' : undefined;
        if (kind) this[kind].senderReport(p.senderInfo.ntpTimestamp, performance.now());
      }
    } catch {
      // one that fails authentication or does not parse is dropped, as werift drops it
    }
  }

  private send(t: RTCDtlsTransport, packets: Parameters<RTCDtlsTransport['sendRtcp']>[0]) {
    return this.stopped ? Promise.resolve() : t.sendRtcp(packets).catch(() => undefined);
  }

  private count(kind: 'audio' | 'video', seq: number, timestamp: number, marker: boolean) {
    const now = performance.now();
    if (kind === 'video') this.firstVideoAt ??= now;
    return this[kind].add(seq, timestamp, marker, now);
  }

  stats(): ClientStats {
    return {
      ttffMs: this.firstVideoAt === undefined ? undefined : this.firstVideoAt - this.startedAt,
      videoPackets: this.video.packets,
      videoExpected: this.video.expected,
      videoRecovered: this.video.recovered,
      videoFrames: this.video.frames,
      audioPackets: this.audio.packets,
      bytes: this.bytes,
      jitterMs: this.video.jitterMs,
      freezes: this.video.freezesAt(performance.now()),
      nacked: this.nacked,
      reports: this.reports,
    };
  }

  /** Ends the WHEP session (DELETE its Location) and the peer connection; safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.reportTimer);
    if (this.location) await fetch(new URL(this.location, this.base), { method: 'DELETE' }).then((r) => r.body?.cancel(), () => undefined);
    await this.pc.close();
  }
}
