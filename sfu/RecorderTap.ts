// A room's recorder tap: the recorder's plain RTP consumers (one plain transport per track), the media watch that
// tells the recorder when the publisher's media stops and flows again, and the wait an RTMP bridge makes for the
// recorder to listen. One attachment at a time; the recorder drives it over shared/recorder-protocol.ts (Sfu.ts).
import type { types as ms } from 'mediasoup';
import { notFound } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { RecordedTrack, RtpTargets } from '../shared/recorder-protocol.ts';
import { mediaFailure } from './media-failure.ts';

/** The recorded media counts as stopped after this many packet-count polls without a new packet. */
const MEDIA_POLL_MS = 500;
const MEDIA_IDLE_POLLS = 2;

/** What the tap needs of its room. */
export type TapHost = {
  readonly router: ms.Router;
  readonly slug: string;
  readonly log: Logger;
  /** the address plain transports to a recorder on another host bind to */
  readonly listenIp: string;
  closed(): boolean;
  /** the room is open, with a publisher, for live session `sessionId` */
  live(sessionId: string): boolean;
  /** the publisher's producers (none without a publisher) */
  producers(): ms.Producer[];
};

type Attachment = { consumers: ms.Consumer[]; transports: ms.Transport[]; watch?: NodeJS.Timeout };

export class RecorderTap {
  /** the recorder's plain RTP consumers (one transport per track), while a recording is attached */
  private recording: Attachment | undefined;
  /** settles when the recorder has resumed its consumers (it listens) after the latest RTMP publisher connected */
  private listening: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(private readonly room: TapHost) {}

  /** An RTMP publisher connected: ready() waits for the recorder to listen for its tracks. */
  expectListener(): void {
    let resolve!: () => void;
    this.listening = { promise: new Promise<void>((r) => (resolve = r)), resolve };
  }

  /**
   * Each track as plain RTP (no RTX, no SRTP) to the recorder's ports, paused until resume(). A simulcast producer is
   * recorded at its best layer (a consumer's default preference). Attaching again replaces the previous attachment.
   * `onMedia` hears when the publisher's media stops for a second (a pause: tracks replaced by nothing, a stalled
   * network, a dropped publisher) and when it flows again, so the recording cuts the gap out rather than holding a
   * hole in its timeline. (mediasoup reports RTP inactivity only for simulcast; this counts packets for every kind.)
   */
  async attach(sessionId: string, targets: RtpTargets, onMedia?: (flowing: boolean) => void): Promise<RecordedTrack[]> {
    // the recording of one live session never takes another's media (the room's next session is another room)
    const room = this.room;
    if (!room.live(sessionId)) throw notFound(`Live session ${sessionId} on "${room.slug}"`);
    this.detach();
    const caps = room.router.rtpCapabilities;
    const plain: ms.RtpCapabilities = {
      codecs: (caps.codecs ?? []).filter((c) => !/\/rtx$/i.test(c.mimeType)).map((c) => ({ ...c, rtcpFeedback: [] })),
      headerExtensions: [],
    };
    const recording: Attachment = { consumers: [], transports: [] };
    this.recording = recording;
    const tracks: RecordedTrack[] = [];
    for (const producer of room.producers()) {
      const target = targets[producer.kind];
      if (!target) continue;
      // a recorder on this host is reached over loopback; one elsewhere (its own container) from the SFU's address
      const listenIp = /^127\./.test(target.ip) ? '127.0.0.1' : room.listenIp;
      const transport = await room.router.createPlainTransport({ listenIp: { ip: listenIp }, rtcpMux: false, comedia: false }).catch((err) => {
        throw mediaFailure(err, room.log, 'recorder plain transport');
      });
      recording.transports.push(transport);
      // No RTCP to the recorder: mediasoup's sender reports tie RTP time to the moment packets reached the SFU, and
      // FFmpeg's RTP demuxer re-bases every track's timestamps on each report, so arrival jitter became timestamp
      // jumps in the recording (audio "backward in time", video frames closer than a frame apart). The recorder's
      // FFmpeg needs none (no retransmission; keyframes are asked for over the bus) and reads only the BYE the
      // recorder itself sends to `target.rtcpPort`. mediasoup requires an RTCP port: the transport's own, which nothing reads.
      await transport.connect({ ip: target.ip, port: target.port, rtcpPort: transport.rtcpTuple!.localPort });
      const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: plain, paused: true });
      recording.consumers.push(consumer);
      const codec = consumer.rtpParameters.codecs[0]!;
      tracks.push({
        kind: producer.kind,
        mimeType: codec.mimeType,
        payloadType: codec.payloadType,
        clockRate: codec.clockRate,
        ...(codec.channels ? { channels: codec.channels } : {}),
        parameters: (codec.parameters ?? {}) as Record<string, string | number>,
        ssrc: consumer.rtpParameters.encodings![0]!.ssrc!,
      });
    }
    // the room closed, or a newer attach replaced this one, while the transports were being made: they go with it
    if (room.closed() || this.recording !== recording) {
      for (const t of recording.transports) t.close();
      throw notFound(`Live session ${sessionId} on "${room.slug}"`);
    }
    if (onMedia) recording.watch = this.watchMedia(onMedia);
    return tracks;
  }

  private watchMedia(onMedia: (flowing: boolean) => void): NodeJS.Timeout {
    const producers = [...this.room.producers()];
    let last = -1;
    let still = 0;
    let flowing = true;
    let busy = false;
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        let count = 0;
        for (const p of producers) if (!p.closed) for (const s of await p.getStats()) count += s.packetCount;
        // nothing yet is a publisher still connecting (ICE, DTLS), not a pause: the recording waits for its first media
        if (count === 0) return;
        still = count === last ? still + 1 : 0;
        last = count;
        if (flowing && still >= MEDIA_IDLE_POLLS) onMedia((flowing = false));
        else if (!flowing && still === 0) onMedia((flowing = true));
      } catch {
        // a producer closed between the check and the call: the next poll sees it
      } finally {
        busy = false;
      }
    }, MEDIA_POLL_MS);
    timer.unref();
    return timer;
  }

  /**
   * Resolves once the recorder listens for the RTMP publisher's tracks, or after `timeoutMs` (false then). The RTMP
   * bridge waits for it before sending: a copied stream cannot make a keyframe on request, so a recording attached
   * after the first one was sent would start at the next — up to a whole keyframe interval (OBS: 2 s) lost.
   */
  async ready(timeoutMs: number): Promise<boolean> {
    const listening = this.listening?.promise;
    if (!listening) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    try {
      return await Promise.race([listening.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts the recorder's consumers (its FFmpeg is listening) with a keyframe first. */
  async resume(): Promise<void> {
    const consumers = this.recording?.consumers ?? [];
    for (const c of consumers) await c.resume();
    if (consumers.length) this.listening?.resolve();
    const video = consumers.find((c) => c.kind === 'video');
    if (!video) return;
    await video.requestKeyFrame();
    // A publisher still connecting (the recording attaches when the broadcast starts) has sent nothing yet, and that
    // request reached no encoder: ask again once its video flows, or the recording waits for the next periodic one.
    const producer = this.room.producers().find((p) => p.id === video.producerId);
    for (let waited = 0; producer && !producer.closed && waited < 5000; waited += 100) {
      if ((await producer.getStats()).some((s) => s.packetCount > 0)) {
        if (waited > 0 && !video.closed) await video.requestKeyFrame();
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The recorder cuts segments on keyframes and asks for one every segment (OpenH264 sends them only on request). */
  async keyframe(): Promise<void> {
    await this.recording?.consumers.find((c) => c.kind === 'video' && !c.closed)?.requestKeyFrame();
  }

  /** A recorder is attached (its consumers send plain RTP). */
  get attached(): boolean {
    return !!this.recording;
  }

  /** The recorder's consumers and plain transports close. */
  detach(): void {
    clearInterval(this.recording?.watch);
    for (const t of this.recording?.transports ?? []) t.close();
    this.recording = undefined;
  }

  /** The room closed (its router took the transports with it): the media watch stops. */
  close(): void {
    clearInterval(this.recording?.watch);
  }
}
