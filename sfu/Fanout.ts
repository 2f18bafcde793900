// A room's fan-out across the node's cores. Its origin router (on the room's worker, holding the publisher's
// producers) serves the viewers seated on that worker whose players number codecs as the room does; every other viewer
// consumes from a branch router, one per (worker, payload-type numbering), fed from the origin by a pipe carrying every
// producer: audio, and video with all its simulcast layers, so each branch picks each of its viewers' layer itself.
// Each viewer goes to the worker with the fewest viewers of every room, among those where this room seats fewer than
// `perWorker`; so a channel takes perWorker × workers viewers and one broadcast can use the whole machine.
// A branch closes with its last viewer; one whose worker dies drops only its viewers (they reconnect), not the
// broadcast (the origin's worker dying ends the room: Sfu.ts).
//
// The pipes are built by hand (a pipe transport on each router, consume on the origin's, produce with a fresh id on the
// branch's), not with router.pipeToRouter: mediasoup 3.12's pipeToRouter gives the piped producer the original's id,
// and producer ids are per worker, so it can neither pipe into a router on the origin's own worker nor pipe a producer
// into one worker twice — which two numberings on one worker need.
import type { types as ms } from 'mediasoup';
import { unavailable } from '../shared/errors.ts';
import { MEDIA_CODECS } from './codecs.ts';
import { sameCodec } from './sdp.ts';
import type { Placement } from './WorkerPool.ts';

/** How long a viewer refused for capacity is told to wait: long enough for viewers to leave, short for a person. */
export const CAPACITY_RETRY_MS = 10_000;

/**
 * Video keyframe requests reach the sender at most once per this many ms (mediasoup's keyFrameRequestDelay: one asked
 * within it is sent when it ends, not dropped). Set on the publisher's producers and on every branch's piped ones, so
 * a hundred viewers joining (each asking for a keyframe) or losing packets cost the publisher one PLI a second.
 */
export const KEYFRAME_REQUEST_DELAY_MS = 1_000;

/** A producer's keyframe pacing: video only (spread into produce()'s options). */
export const keyframePacing = (kind: ms.MediaKind) => (kind === 'video' ? { keyFrameRequestDelay: KEYFRAME_REQUEST_DELAY_MS } : {});

/** Pipes run between processes on this host. */
const PIPE_IP = '127.0.0.1';

/** What the fan-out needs of the worker pool (WorkerPool.ts). */
export type Workers = {
  loads(): { worker: number; viewers: number }[];
  seat(worker: number): () => void;
  routerOn(worker: number, mediaCodecs: ms.RtpCodecCapability[]): Promise<Placement>;
};

export type FanoutOptions = {
  /** viewers of this room one worker takes */
  perWorker: number;
  /** payload-type numberings other than the room's served at once (each a router per worker it reaches) */
  maxNumberings: number;
  slug: string;
  /** branch `key`'s worker died: its viewers are gone (the room drops their sessions) */
  onBranchLost: (key: string) => void;
};

/**
 * Where one viewer consumes: a router and its worker's WebRtcServer, `branch` (undefined: the origin router), the id to
 * consume in place of each origin producer's. release() once the viewer leaves (idempotent).
 */
export type Seat = {
  router: ms.Router;
  webRtcServer: ms.WebRtcServer;
  worker: number;
  branch: string | undefined;
  producerId(originId: string): string;
  release(): void;
};

type Fed = { placement: Placement; out: ms.PipeTransport; ids: Map<string, string> };
/** A branch router and how many viewers (seated or being seated) use it. */
type Branch = { worker: number; numbering: string; users: number; made: Promise<Fed> };

/** The producers' codecs as a viewer numbers them ('' when as the room's router does). */
function numberingOf(caps: ms.RtpCapabilities, origin: ms.Router, producers: ms.Producer[]): string {
  const ptOf = (list: ms.RtpCodecCapability[] | undefined, c: ms.RtpCodecParameters) => list?.find((x) => sameCodec(x, c))?.preferredPayloadType;
  const mapping = producers.map((p) => {
    const codec = p.rtpParameters.codecs[0]!;
    return { codec, mine: ptOf(origin.rtpCapabilities.codecs, codec), theirs: ptOf(caps.codecs, codec) };
  });
  if (mapping.every((m) => m.theirs === undefined || m.theirs === m.mine)) return '';
  return mapping.map((m) => `${m.codec.mimeType}=${m.theirs}`).join(',');
}

export class Fanout {
  /**
   * branch routers by `${worker}/${numbering}/${the producers' ids}`: a publisher that reconnected has new producers,
   * and a branch still fed the old ones (a viewer joining as it dropped) serves no one new
   */
  private readonly branches = new Map<string, Branch>();
  /** this room's viewers (seated or being seated) per worker */
  private readonly seated = new Map<number, number>();
  private closed = false;

  constructor(
    private readonly origin: Placement,
    private readonly workers: Workers,
    private readonly opts: FanoutOptions,
  ) {}

  /**
   * A seat for a viewer whose offer has `caps`, consuming `producers` (the publisher's, on the origin router): on the
   * least-loaded worker with room for this channel, from the origin router or a branch (made now if needed). The seat
   * is taken before anything is awaited, so concurrent offers cannot overfill a worker. No worker with room, or one
   * numbering too many, is a 503.
   */
  async seat(caps: ms.RtpCapabilities, producers: ms.Producer[]): Promise<Seat> {
    if (this.closed) throw new Error('fan-out closed');
    const numbering = numberingOf(caps, this.origin.router, producers);
    const loads = this.workers.loads();
    const open = loads.filter((l) => (this.seated.get(l.worker) ?? 0) < this.opts.perWorker);
    if (!open.length) {
      const most = this.opts.perWorker * loads.length;
      throw unavailable(`"${this.opts.slug}" has as many viewers as this server can take (${most}); try again shortly.`, CAPACITY_RETRY_MS);
    }
    const numberings = new Set([...this.branches.values()].map((b) => b.numbering).filter((n) => n !== ''));
    if (numbering !== '' && !numberings.has(numbering) && numberings.size >= this.opts.maxNumberings) {
      throw unavailable(`"${this.opts.slug}" serves as many different players as it can right now; try again shortly.`, CAPACITY_RETRY_MS);
    }
    // fewest viewers first; among equals, a worker that already serves this numbering (no new router), then the origin's
    const feeds = producers.map((p) => p.id).join(',');
    const serves = (w: number) => (numbering === '' && w === this.origin.worker) || this.branches.has(`${w}/${numbering}/${feeds}`);
    const rank = (w: number) => (serves(w) ? 0 : w === this.origin.worker ? 1 : 2);
    const { worker } = open.sort((a, b) => a.viewers - b.viewers || rank(a.worker) - rank(b.worker) || a.worker - b.worker)[0]!;

    this.seated.set(worker, (this.seated.get(worker) ?? 0) + 1);
    const unseat = this.workers.seat(worker);
    let left = false;
    const leave = (key?: string, branch?: Branch) => {
      if (left) return;
      left = true;
      this.seated.set(worker, Math.max(0, (this.seated.get(worker) ?? 0) - 1));
      unseat();
      if (key !== undefined && branch) this.unuse(key, branch);
    };
    if (worker === this.origin.worker && numbering === '') {
      return { router: this.origin.router, webRtcServer: this.origin.webRtcServer, worker, branch: undefined, producerId: (id) => id, release: () => leave() };
    }
    const key = `${worker}/${numbering}/${feeds}`;
    const branch = this.branches.get(key) ?? this.open(key, worker, numbering, caps, producers);
    branch.users++;
    try {
      const fed = await branch.made;
      return {
        router: fed.placement.router,
        webRtcServer: fed.placement.webRtcServer,
        worker,
        branch: key,
        producerId: (id) => fed.ids.get(id) ?? id,
        release: () => leave(key, branch),
      };
    } catch (err) {
      leave(key, branch);
      throw err;
    }
  }

  /** A branch for `numbering` on `worker`: a router with those payload types, fed every producer from the origin. */
  private open(key: string, worker: number, numbering: string, caps: ms.RtpCapabilities, producers: ms.Producer[]): Branch {
    // a foreign numbering's router gets only the codecs the producers send: mediasoup gives each video codec's RTX the
    // lowest free payload type, which with more codecs can be one the viewer numbers a later codec with
    const mediaCodecs = numbering === ''
      ? MEDIA_CODECS
      : MEDIA_CODECS.filter((c) => producers.some((p) => sameCodec(c, p.rtpParameters.codecs[0]!))).map((c) => {
        const theirs = caps.codecs?.find((x) => sameCodec(x, c))?.preferredPayloadType;
        return theirs === undefined ? c : { ...c, preferredPayloadType: theirs };
      });
    const branch: Branch = { worker, numbering, users: 0, made: this.feed(key, worker, mediaCodecs, producers) };
    this.branches.set(key, branch);
    branch.made.catch(() => this.branches.get(key) === branch && this.branches.delete(key));
    return branch;
  }

  private async feed(key: string, worker: number, mediaCodecs: ms.RtpCodecCapability[], producers: ms.Producer[]): Promise<Fed> {
    const placement = await this.workers.routerOn(worker, mediaCodecs);
    placement.router.once('workerclose', () => this.lost(key));
    let out: ms.PipeTransport | undefined;
    try {
      out = await this.origin.router.createPipeTransport({ listenIp: PIPE_IP });
      const into = await placement.router.createPipeTransport({ listenIp: PIPE_IP });
      await out.connect({ ip: into.tuple.localIp, port: into.tuple.localPort });
      await into.connect({ ip: out.tuple.localIp, port: out.tuple.localPort });
      const ids = new Map<string, string>();
      for (const p of producers) {
        // a pipe consumer forwards every simulcast stream and asks the origin for keyframes its branch asks for
        const pipeConsumer = await out.consume({ producerId: p.id });
        const piped = await into.produce({
          kind: pipeConsumer.kind,
          rtpParameters: pipeConsumer.rtpParameters,
          paused: pipeConsumer.producerPaused,
          ...keyframePacing(p.kind),
        });
        pipeConsumer.observer.once('close', () => piped.close());
        ids.set(p.id, piped.id);
      }
      if (this.closed) throw new Error('fan-out closed');
      return { placement, out, ids };
    } catch (err) {
      out?.close();
      placement.router.close();
      placement.release();
      throw err;
    }
  }

  /**
   * One viewer of `branch` is gone; the last one closes it (its router and the origin's end of the pipe). A branch lost
   * with its worker may have been replaced under the same key since: that one is not this viewer's.
   */
  private unuse(key: string, branch: Branch): void {
    if (--branch.users > 0 || this.branches.get(key) !== branch) return;
    this.branches.delete(key);
    Fanout.shut(branch);
  }

  /** Branch `key`'s worker died: the branch is gone, the origin's end of its pipe too, its viewers with it. */
  private lost(key: string): void {
    const branch = this.branches.get(key);
    if (!branch) return;
    this.branches.delete(key);
    Fanout.shut(branch);
    if (!this.closed) this.opts.onBranchLost(key);
  }

  private static shut(branch: Branch): void {
    void branch.made.then((fed) => {
      fed.out.close();
      fed.placement.router.close();
      fed.placement.release();
    }, () => undefined);
  }

  /** Branches open (or opening): worker, numbering ('' for the room's) and viewers using each. */
  describe(): { worker: number; numbering: string; viewers: number }[] {
    return [...this.branches.values()].map((b) => ({ worker: b.worker, numbering: b.numbering, viewers: b.users }));
  }

  /** Numberings other than the room's served now. */
  get numberings(): number {
    return new Set([...this.branches.values()].map((b) => b.numbering).filter((n) => n !== '')).size;
  }

  /** The branch routers as made (those whose making failed left out), for counting what the room holds. */
  routers(): Promise<(ms.Router | undefined)[]> {
    return Promise.all([...this.branches.values()].map((b) => b.made.then((f) => f.placement.router, () => undefined)));
  }

  /** Closes every branch (the room is closing; its origin router is the room's to close). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const branch of this.branches.values()) Fanout.shut(branch);
    this.branches.clear();
  }
}
