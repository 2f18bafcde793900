// A room's recorder tap: the recording feed of the publisher's tracks (RecordingFeed.ts: held from their first packet
// until a recorder attaches, then sent to it as plain RTP) and the media watch that tells the recorder when the
// publisher's media stops and flows again. One attachment at a time; the recorder drives it over
// shared/recorder-protocol.ts (Sfu.ts).
import type { types as ms } from 'mediasoup';
import { notFound } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { RecordedTrack, RtpTargets } from '../shared/recorder-protocol.ts';
import { RecordingFeed } from './RecordingFeed.ts';

/** The recorded media counts as stopped after this many packet-count polls without a new packet. */
const MEDIA_POLL_MS = 500;
const MEDIA_IDLE_POLLS = 2;

/** What the tap needs of its room. */
export type TapHost = {
  readonly router: ms.Router;
  readonly slug: string;
  readonly log: Logger;
  /** the address the recording feed sends from (to a recorder on another host too) */
  readonly listenIp: string;
  closed(): boolean;
  /** the room is open, with a publisher, for live session `sessionId` */
  live(sessionId: string): boolean;
  /** the publisher's producers (none without a publisher) */
  producers(): ms.Producer[];
};

type Attachment = { feed: RecordingFeed; watch?: NodeJS.Timeout };

export class RecorderTap {
  /** the current publisher's tracks for the recorder, held from their first packet until a recorder attaches */
  private feed: RecordingFeed | undefined;
  /** the feed a recorder is attached to, while one is */
  private recording: Attachment | undefined;

  constructor(private readonly room: TapHost) {}

  /**
   * A publisher's producers exist: a new feed holds their tracks from the first packet on (the previous publisher's,
   * a reconnecting one's, goes). Plain RTP — no RTX, no feedback, and no RTCP at all: mediasoup's sender reports tie RTP
   * time to the moment packets reached the SFU, and FFmpeg's RTP demuxer re-bases every track's timestamps on each
   * report, so arrival jitter became timestamp jumps in the recording (audio "backward in time", video frames closer
   * than a frame apart). The recorder's FFmpeg needs none (no retransmission; keyframes are asked for over the bus)
   * and reads only the BYE the recorder itself sends. A simulcast producer is recorded at its best layer (a
   * consumer's default preference). Without a feed (it could not be made), attach() tries again.
   */
  async publisherStarted(producers: ms.Producer[]): Promise<void> {
    this.feed?.close();
    this.feed = undefined;
    const caps = this.room.router.rtpCapabilities;
    const plain: ms.RtpCapabilities = {
      codecs: (caps.codecs ?? []).filter((c) => !/\/rtx$/i.test(c.mimeType)).map((c) => ({ ...c, rtcpFeedback: [] })),
      headerExtensions: [],
    };
    try {
      const feed = await RecordingFeed.open(this.room.router, producers, plain, this.room.listenIp);
      if (this.room.closed()) feed.close();
      else this.feed = feed;
    } catch (err) {
      this.room.log.warn({ err, channel: this.room.slug }, 'could not open the recording feed');
    }
  }

  /** The publisher failed to start: its feed goes. */
  publisherFailed(): void {
    this.feed?.close();
    this.feed = undefined;
  }

  /**
   * The feed's tracks aimed at the recorder's ports, sent from resume() on — what was held since the publisher's
   * first packet first. Attaching again (the recorder restarted, or lost the bus) replaces the previous attachment.
   * `onMedia` hears when the publisher's media stops for a second (a pause: tracks replaced by nothing, a stalled
   * network, a dropped publisher) and when it flows again, so the recording cuts the gap out rather than holding a
   * hole in its timeline. (mediasoup reports RTP inactivity only for simulcast; this counts packets for every kind.)
   */
  async attach(sessionId: string, targets: RtpTargets, onMedia?: (flowing: boolean) => void): Promise<RecordedTrack[]> {
    // the recording of one live session never takes another's media (the room's next session is another room)
    const room = this.room;
    if (!room.live(sessionId)) throw notFound(`Live session ${sessionId} on "${room.slug}"`);
    clearInterval(this.recording?.watch);
    this.recording = undefined;
    if (!this.feed) await this.publisherStarted(room.producers());
    const feed = this.feed;
    if (!feed || !room.live(sessionId)) throw notFound(`Live session ${sessionId} on "${room.slug}"`);
    feed.aim(targets);
    const recording: Attachment = { feed };
    this.recording = recording;
    if (onMedia) recording.watch = this.watchMedia(onMedia);
    return feed.describe().filter((t) => targets[t.kind]);
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

  /** The recorder listens: the feed sends what it held since the publisher's first packet, then the live tracks. */
  async resume(): Promise<void> {
    const feed = this.recording?.feed;
    if (!feed) return;
    feed.start();
    const video = feed.video;
    if (!video) return;
    // what was held began with the publisher's first keyframe unless the recorder came late (or again): ask for one
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
    await this.recording?.feed.video?.requestKeyFrame();
  }

  /** A recorder is attached (the feed sends it plain RTP). */
  get attached(): boolean {
    return !!this.recording;
  }

  /** Nothing more goes to the recorder, and the feed's consumers close (a recorder attaching again gets a new feed,
   * from a keyframe it asks for). */
  detach(): void {
    clearInterval(this.recording?.watch);
    this.recording = undefined;
    this.feed?.close();
    this.feed = undefined;
  }

  /** The room closed: the media watch stops and the feed goes. */
  close(): void {
    clearInterval(this.recording?.watch);
    this.feed?.close();
    this.feed = undefined;
  }
}
