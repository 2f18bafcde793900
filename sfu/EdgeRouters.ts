// A room's edge routers: viewers whose offers number codecs differently from the room's router consume from a router
// made with their numbers (on another worker), fed by pipeToRouter from the room's. One per numbering, shared by
// every viewer using it, at most `max` at once, each closed when its last viewer leaves or the room closes.
import type { types as ms } from 'mediasoup';
import { unavailable } from '../shared/errors.ts';
import { MEDIA_CODECS } from './codecs.ts';
import { sameCodec } from './sdp.ts';
import type { Placement } from './WorkerPool.ts';

/** How long a viewer refused for capacity is told to wait: long enough for viewers to leave, short for a person. */
export const CAPACITY_RETRY_MS = 10_000;

/** An edge router and how many viewers (joined or joining) use it; closed when the last one leaves. */
type Edge = { made: Promise<Placement>; users: number; worker?: number };

export class EdgeRouters {
  /** edge routers by payload-type mapping, each fed by pipeToRouter from the room's router */
  private readonly edges = new Map<string, Edge>();
  /** edge routers are made one at a time, so each knows which workers the others took */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly home: Placement,
    /** a router with the given codecs (payload types) on a worker not in `avoid` */
    private readonly make: (mediaCodecs: ms.RtpCodecCapability[], avoid: number[]) => Promise<Placement>,
    private readonly max: number,
    private readonly slug: string,
  ) {}

  /**
   * mediasoup forwards RTP with its router's payload type numbers, and a WHEP viewer's offer fixes the numbers it
   * will accept. Viewers numbering the codecs as this room's router does consume from it directly; others consume
   * from an edge router (on another worker, created with the viewer's numbers) that this router pipes into. One
   * edge per numbering serves every viewer who uses it; at most maxEdges at once (each is a router and pipe
   * transports a stranger's offer could otherwise open without end), and each closes when its last viewer leaves.
   * The caller owns one use of the returned edge (unuse() when its viewer leaves or fails).
   */
  async placementFor(caps: ms.RtpCapabilities, producers: ms.Producer[]): Promise<Placement & { edge?: string }> {
    const ptOf = (list: ms.RtpCodecCapability[] | undefined, c: ms.RtpCodecParameters) => list?.find((x) => sameCodec(x, c))?.preferredPayloadType;
    const mapping = producers.map((p) => {
      const codec = p.rtpParameters.codecs[0]!;
      return { codec, mine: ptOf(this.home.router.rtpCapabilities.codecs, codec), theirs: ptOf(caps.codecs, codec) };
    });
    if (mapping.every((m) => m.theirs === undefined || m.theirs === m.mine)) return this.home;
    const key = mapping.map((m) => `${m.codec.mimeType}=${m.theirs}`).join(',');
    let edge = this.edges.get(key);
    if (!edge) {
      if (this.edges.size >= this.max) {
        throw unavailable(`"${this.slug}" serves as many different players as it can right now; try again shortly.`, CAPACITY_RETRY_MS);
      }
      // only the codecs the room's producers send: mediasoup gives each video codec's RTX the lowest free payload
      // type, which with more codecs can be one the viewer numbers a later codec with (duplicated payload type)
      const mediaCodecs = MEDIA_CODECS.filter((c) => producers.some((p) => sameCodec(c, p.rtpParameters.codecs[0]!))).map((c) => {
        const theirs = caps.codecs?.find((x) => sameCodec(x, c))?.preferredPayloadType;
        return theirs === undefined ? c : { ...c, preferredPayloadType: theirs };
      });
      const made = this.queue.then(async () => {
        const taken = [this.home.worker, ...[...this.edges.values()].flatMap((e) => (e.worker === undefined ? [] : [e.worker]))];
        const placed = await this.make(mediaCodecs, taken);
        entry.worker = placed.worker;
        try {
          for (const p of producers) await this.home.router.pipeToRouter({ producerId: p.id, router: placed.router });
        } catch (err) {
          placed.router.close();
          placed.release();
          throw err;
        }
        return placed;
      });
      this.queue = made.catch(() => undefined);
      const entry: Edge = { made, users: 0 };
      edge = entry;
      this.edges.set(key, entry);
      made.catch(() => this.edges.get(key) === entry && this.edges.delete(key));
    }
    edge.users++;
    try {
      return { ...(await edge.made), edge: key };
    } catch (err) {
      edge.users--;
      throw err;
    }
  }

  /** One viewer of edge `key` is gone; the last one closes the edge router (and the pipe transports feeding it). */
  unuse(key: string): void {
    const edge = this.edges.get(key);
    if (!edge || --edge.users > 0) return;
    this.edges.delete(key);
    void edge.made.then((e) => {
      e.router.close();
      e.release();
    }, () => undefined);
  }

  /** Edge routers open (or opening) for viewers numbering codecs differently. */
  get count() {
    return this.edges.size;
  }

  /** The edge routers as made (those whose making failed left out), for counting what the room holds. */
  routers(): Promise<(ms.Router | undefined)[]> {
    return Promise.all([...this.edges.values()].map((e) => e.made.then((x) => x.router, () => undefined)));
  }

  /** Closes every edge router (the room is closing). */
  close(): void {
    for (const edge of this.edges.values()) {
      void edge.made.then((e) => {
        e.router.close();
        e.release();
      }, () => undefined);
    }
    this.edges.clear();
  }
}
