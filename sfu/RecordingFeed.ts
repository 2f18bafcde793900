// What the recorder receives of a broadcast: every track of its publisher from the first packet. A DirectTransport
// consumer per producer starts with the publisher — before any recorder has attached, which takes a moment after the
// broadcast goes live (the VoD's row, ports, the attach over the bus) and on a busy machine longer than the
// publisher's ICE and DTLS — and what it gives is held in this process until the recorder attaches and listens
// (PREROLL_MAX_BYTES at most), then sent on as plain RTP over UDP, held packets first. So a recording begins with the
// broadcast's first keyframe rather than wherever the recorder got to it (the first broadcast after a start on a
// loaded machine lost 1.6 s that way). No RTCP goes to the recorder (RecorderTap.ts: FFmpeg re-bases its
// timestamps on every sender report).
import dgram from 'node:dgram';
import type { types as ms } from 'mediasoup';
import type { RecordedTrack, RtpTarget, RtpTargets } from '../shared/recorder-protocol.ts';

/** What a feed holds before a recorder attaches, at most (~10 s of 6 Mb/s video); beyond it the start is lost anyway
 * (no recorder runs, or it is down): the feed pauses its consumers, so the worker stops handing this process packets
 * nobody takes, until a recorder attaches (the recording then starts at a keyframe it asks for). */
export const PREROLL_MAX_BYTES = 8 << 20;

type Track = { consumer: ms.Consumer; target?: RtpTarget };

export class RecordingFeed {
  private held: { track: Track; packet: Buffer }[] | null = [];
  private heldBytes = 0;
  private sending = false;
  private closed = false;

  private constructor(
    private readonly transport: ms.DirectTransport,
    private readonly tracks: Track[],
    private readonly socket: dgram.Socket,
  ) {
    for (const t of tracks) t.consumer.on('rtp', (packet: Buffer) => this.packet(t, packet));
  }

  /** Starts holding every track of `producers` (plain RTP capabilities: no RTX, no feedback — FFmpeg reads it). */
  static async open(router: ms.Router, producers: ms.Producer[], caps: ms.RtpCapabilities, listenIp: string): Promise<RecordingFeed> {
    const transport = await router.createDirectTransport();
    try {
      const tracks: Track[] = [];
      for (const producer of producers) tracks.push({ consumer: await transport.consume({ producerId: producer.id, rtpCapabilities: caps }) });
      const socket = dgram.createSocket('udp4');
      socket.on('error', () => undefined); // a recorder that went away loses only that datagram
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, listenIp, () => resolve());
      });
      return new RecordingFeed(transport, tracks, socket);
    } catch (err) {
      transport.close();
      throw err;
    }
  }

  /** What each track carries, as the recorder's SDP names it. */
  describe(): RecordedTrack[] {
    return this.tracks.map(({ consumer }) => {
      const codec = consumer.rtpParameters.codecs[0]!;
      return {
        kind: consumer.kind,
        mimeType: codec.mimeType,
        payloadType: codec.payloadType,
        clockRate: codec.clockRate,
        ...(codec.channels ? { channels: codec.channels } : {}),
        parameters: (codec.parameters ?? {}) as Record<string, string | number>,
        ssrc: consumer.rtpParameters.encodings![0]!.ssrc!,
      };
    });
  }

  /** Where each kind goes from now on (a recorder attached); nothing is sent before `start()`. */
  aim(targets: RtpTargets) {
    for (const t of this.tracks) t.target = targets[t.consumer.kind];
  }

  /** The recorder listens: what was held goes first, in order, then every packet as it comes. */
  start() {
    if (this.closed || this.sending) return;
    this.sending = true;
    for (const { consumer } of this.tracks) if (consumer.paused && !consumer.closed) void consumer.resume().catch(() => undefined);
    const held = this.held ?? [];
    this.held = null;
    this.heldBytes = 0;
    for (const { track, packet } of held) this.send(track, packet);
  }

  /** The video consumer, for keyframe requests. */
  get video(): ms.Consumer | undefined {
    return this.tracks.find((t) => t.consumer.kind === 'video' && !t.consumer.closed)?.consumer;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.sending = false;
    this.held = null;
    this.transport.close();
    this.socket.close();
  }

  private packet(track: Track, packet: Buffer) {
    if (this.sending) return this.send(track, packet);
    if (!this.held) return;
    this.held.push({ track, packet });
    this.heldBytes += packet.length;
    if (this.heldBytes <= PREROLL_MAX_BYTES) return;
    // the start is lost: hold no more, and take nothing more from the worker until a recorder attaches
    this.held = null;
    this.heldBytes = 0;
    for (const { consumer } of this.tracks) if (!consumer.closed) void consumer.pause().catch(() => undefined);
  }

  private send(track: Track, packet: Buffer) {
    if (track.target && !this.closed) this.socket.send(packet, track.target.port, track.target.ip);
  }
}
