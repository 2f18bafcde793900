// The relay every recorded track passes through on its way from the SFU to the recording's FFmpeg (one UDP socket per
// track, in the recorder's process). FFmpeg's RTP demuxer has no retransmission and waits only 100 ms for a missing
// packet, and it loses everything sent before it listens; the relay makes up for both:
// - it puts each stream back in sequence order, waiting up to REORDER_WAIT_MS for a gap to fill: a packet the SFU
//   recovered from its publisher by NACK arrives late and out of order, and FFmpeg, having given up on it, cut the
//   picture it belonged to in two (two frames with one timestamp: "non monotonically increasing dts");
// - it holds what arrives while no FFmpeg listens (the first one starting, one restarting after a pause or a crash)
//   and hands it over once one does, so a recording starts with the broadcast's first keyframe and resumes with the
//   publisher's first frame, instead of wherever FFmpeg happened to be ready.
// H.264 is then rewritten to one access unit per picture (h264-relay.ts).
import dgram from 'node:dgram';
import { H264AccessUnits } from './h264-relay.ts';

/** Bytes of RTP a socket on the way (the relay's, FFmpeg's) may hold unread: a 1080p keyframe is a few hundred KiB. */
export const RTP_RECEIVE_BUFFER = 4 << 20;
/** How long a packet after a gap waits for the missing ones before the gap is given up as lost. */
export const REORDER_WAIT_MS = 500;
/** Packets waiting behind a gap, at most (then the gap is given up at once). */
const REORDER_MAX_WAITING = 2048;
/** A sequence number this far from the expected one starts the stream over (a new source), rather than a gap. */
const SEQUENCE_RESTART = 3000;
/** What is held while no FFmpeg listens, at most (oldest dropped first): ~10 s of 6 Mb/s video. */
const HOLD_MAX_BYTES = 8 << 20;
/** Held packets handed over per turn of the event loop. */
const HANDOVER_BATCH = 64;

export type RelayCounts = {
  /** RTP packets received */
  packets: number;
  /** packets that arrived after a later one and were put back in order */
  reordered: number;
  /** packets never received (gaps given up) */
  lost: number;
  /** packets that came after their gap was given up, or twice */
  late: number;
  /** held packets dropped because no FFmpeg listened for too long */
  overflow: number;
};

const isRtp = (p: Buffer) => p.length >= 12 && p[0]! >> 6 === 2 && !((p[1]! & 0x7f) >= 72 && (p[1]! & 0x7f) <= 76);

/** One RTP stream put back in sequence order (pure but for its timer: the relay below owns the socket). */
export class RtpReorder {
  /** the sequence number expected next */
  private next: number | undefined;
  private readonly waiting = new Map<number, Buffer>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly emit: (packet: Buffer) => void,
    readonly counts: Pick<RelayCounts, 'reordered' | 'lost' | 'late'> = { reordered: 0, lost: 0, late: 0 },
    private readonly waitMs = REORDER_WAIT_MS,
  ) {}

  push(packet: Buffer) {
    const seq = packet.readUInt16BE(2);
    if (this.next === undefined) this.next = seq;
    const ahead = (seq - this.next) & 0xffff;
    if (ahead === 0) {
      if (this.waiting.size) this.counts.reordered++;
      this.pass(packet, seq);
      this.drain();
    } else if (ahead < 0x8000 && ahead <= SEQUENCE_RESTART) {
      if (!this.waiting.has(seq)) this.waiting.set(seq, packet);
      if (this.waiting.size > REORDER_MAX_WAITING) this.giveUp();
      else this.timer ??= setTimeout(() => this.giveUp(), this.waitMs);
    } else if (ahead >= 0x8000 && 0x10000 - ahead <= SEQUENCE_RESTART) {
      this.counts.late++; // a duplicate, or a retransmission after its gap was given up
    } else {
      // far away either way: a new source, or the stream jumped; what waits goes first, then it starts over here
      this.flush();
      this.next = seq;
      this.pass(packet, seq);
    }
  }

  /** Everything waiting goes on in order, gaps and all (a new stream follows, or the relay closes). */
  flush() {
    while (this.waiting.size) this.giveUp();
    this.next = undefined;
  }

  close() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waiting.clear();
  }

  private pass(packet: Buffer, seq: number) {
    this.next = (seq + 1) & 0xffff;
    this.emit(packet);
  }

  /** Sends on what follows the gap consecutively; the timer runs on while gaps remain. */
  private drain() {
    for (let p = this.waiting.get(this.next!); p; p = this.waiting.get(this.next!)) {
      this.waiting.delete(this.next!);
      this.pass(p, this.next!);
    }
    if (!this.waiting.size) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** The oldest gap is given up: the stream goes on from the first packet after it. */
  private giveUp() {
    clearTimeout(this.timer);
    this.timer = undefined;
    let nearest = 0x10000;
    for (const seq of this.waiting.keys()) nearest = Math.min(nearest, (seq - this.next!) & 0xffff);
    if (nearest === 0x10000) return;
    this.counts.lost += nearest;
    this.next = (this.next! + nearest) & 0xffff;
    this.drain();
    if (this.waiting.size) this.timer = setTimeout(() => this.giveUp(), this.waitMs);
  }
}

/**
 * A UDP relay on `ip` for one track: what the SFU sends to `port` goes on, in order, to FFmpeg's port on this host —
 * held meanwhile whenever `hold()` says no FFmpeg listens, and H.264 rewritten per picture once `newStream(true)`.
 */
export class RtpRelay {
  private target = 0;
  private units: H264AccessUnits | undefined;
  private readonly order: RtpReorder;
  readonly counts: RelayCounts = { packets: 0, reordered: 0, lost: 0, late: 0, overflow: 0 };
  /** no FFmpeg listens: packets queue (a new relay holds until the first one does) */
  private holding = true;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private handingOver = false;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
  ) {
    this.order = new RtpReorder((p) => this.rewrite(p), this.counts);
    socket.on('message', (msg) => {
      if (!isRtp(msg)) return this.send(msg);
      this.counts.packets++;
      this.order.push(msg);
    });
    socket.on('error', () => undefined); // an unreachable FFmpeg (between two of them) loses only that datagram
  }

  static async open(ip: string): Promise<RtpRelay> {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: RTP_RECEIVE_BUFFER });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, ip, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new RtpRelay(socket, socket.address().port);
  }

  /** Sends on to FFmpeg's RTP port (on this host: FFmpeg runs beside the relay). */
  forwardTo(port: number) {
    this.target = port;
  }

  /** The SFU sends a new stream from here on (a publisher, returning or new): in order from its first packet, and
   * rewritten per picture when it is H.264. */
  newStream(h264: boolean) {
    this.order.flush();
    this.units = h264 ? new H264AccessUnits() : undefined;
  }

  /** No FFmpeg listens (one is starting, or has stopped reading): keep what arrives until release(). */
  hold() {
    this.holding = true;
  }

  /** An FFmpeg listens: it gets what was held, in order and ahead of anything newer, then the stream as it comes. */
  release() {
    this.holding = false;
    this.handOver();
  }

  /** What waits behind a gap goes on now, and what is being handed over has been (the stream ends: a BYE follows). */
  async settle(timeoutMs = 1000): Promise<void> {
    this.order.flush();
    for (const end = Date.now() + timeoutMs; !this.holding && this.queue.length && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5));
  }

  close() {
    this.order.close();
    this.queue.length = 0;
    this.socket.close();
  }

  private rewrite(packet: Buffer) {
    const out = this.units ? this.units.rewrite(packet) : packet;
    if (out) this.send(out);
  }

  private send(packet: Buffer) {
    if (!this.holding && !this.queue.length) {
      if (this.target) this.socket.send(packet, this.target, '127.0.0.1');
      return;
    }
    this.queue.push(packet);
    this.queuedBytes += packet.length;
    while (this.queuedBytes > HOLD_MAX_BYTES) {
      this.queuedBytes -= this.queue.shift()!.length;
      this.counts.overflow++;
    }
  }

  /** In batches, so a long hold handed over neither blocks the process nor overruns FFmpeg's socket at once. */
  private handOver() {
    if (this.handingOver) return;
    this.handingOver = true;
    const next = () => {
      if (this.holding || !this.queue.length) {
        this.handingOver = false;
        return;
      }
      for (const p of this.queue.splice(0, HANDOVER_BATCH)) {
        this.queuedBytes -= p.length;
        if (this.target) this.socket.send(p, this.target, '127.0.0.1');
      }
      setImmediate(next);
    };
    next();
  }
}
