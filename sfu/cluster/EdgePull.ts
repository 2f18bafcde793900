// Edge pull: a viewer whose offer reaches a node that does not receive the broadcast (an edge) is served from a
// "relay" room on that node, fed by one pipe from the node that does (the origin) and shared by all of the edge's
// viewers of that broadcast. The edge asks the origin over the bus (shared/edge-protocol.ts) with its end of the pipe;
// the origin opens its end on the broadcast's router, consumes every producer (audio, video with every simulcast
// layer) and answers with its end and each track; the edge produces each track into the relay room, whose viewers then
// take the room's ordinary viewer path (Room.ts, Fanout.ts). Both ends have SRTP and RTX on (the pipe may cross
// hosts); keyframe requests from the edge's viewers go back through the pipe (mediasoup forwards PLI over pipes).
// A relay closes with its last viewer, when the broadcast ends (channel.offline), when the origin stops piping
// (edge.unpiped: its publisher dropped) and when the origin's registry entry lapses or no longer holds the channel.
// The origin closes its end when the edge releases it, when the edge's entry lapses, and with the broadcast's room.
import { randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import type { EventBus } from '../../shared/bus.ts';
import type { EdgeEvents, PipeEnd, PipedTrack } from '../../shared/edge-protocol.ts';
import type { Logger } from '../../shared/logger.ts';
import type { SfuNodeState } from '../../shared/sfu-nodes.ts';
import { keyframePacing } from '../Fanout.ts';
import type { Room } from '../Room.ts';

/** The origin answers in milliseconds unless it is gone. */
const PULL_TIMEOUT_MS = 5000;
/** A relay nobody ended up watching (its first viewer's offer failed) closes after this long. */
const IDLE_RELAY_MS = 15_000;

export type EdgePullOptions = {
  /** this node's id in the registry */
  nodeId: string;
  bus: EventBus;
  log: Logger;
  /** where pipes listen, and the address the other node reaches it at (RTC_LISTEN_IP, RTC_ANNOUNCED_IP) */
  listenIp: string;
  announcedIp: string | undefined;
  /** the nodes registered now (empty until this node has joined the registry) */
  nodes: () => Promise<SfuNodeState[]>;
  /** a new room (router on the least-loaded worker) for the channel, not one of the node's own broadcasts */
  newRoom: (channelId: string, slug: string) => Promise<Room>;
  /** the room of a broadcast this node receives (is the origin of) */
  originRoom: (channelId: string) => Room | undefined;
  /** how many watch a broadcast received here through edges changed (remoteViewers) */
  remoteViewersChanged?: (channelId: string) => void;
};

/** A broadcast this node relays: its room, the pipe's id and the node piping it. */
type Relay = { channelId: string; room: Room; pipeId: string; origin: string };
/** Our end of a pipe to an edge node. */
type Outgoing = { pipe: ms.PipeTransport; edge: string; channelId: string; viewers: number };

const pipeEnd = (pipe: ms.PipeTransport): PipeEnd => ({ ip: pipe.tuple.localIp, port: pipe.tuple.localPort, srtp: pipe.srtpParameters! });

export class EdgePull {
  /** relays by channel id, while being opened too (concurrent first offers share one pipe) */
  private readonly relays = new Map<string, Promise<Relay | undefined>>();
  /** relays opened, by channel id */
  private readonly open = new Map<string, Relay>();
  /** pipes this node sends to edges, by pipe id */
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly off: (() => void)[];
  private closed = false;

  constructor(private readonly opts: EdgePullOptions) {
    const { bus } = opts;
    this.off = [
      bus.subscribe('edge.pull', (req) => {
        if (!opts.originRoom(req.channelId)) return; // only the origin answers (between publishers too: no pipe)
        const reply = (body: Omit<EdgeEvents['edge.piped'], 'requestId'>) => void bus.publish('edge.piped', { ...body, requestId: req.requestId });
        this.pipeOut(req).then(reply, (err: Error) => reply({ error: err.message, pipeId: '', end: null, tracks: [] }));
      }),
      bus.subscribe('edge.release', ({ pipeId }) => {
        const out = this.outgoing.get(pipeId);
        this.outgoing.delete(pipeId); // released: the edge needs no word of the close
        out?.pipe.close();
      }),
      bus.subscribe('edge.viewers', ({ pipeId, viewers }) => {
        const out = this.outgoing.get(pipeId);
        if (!out || out.viewers === viewers) return;
        out.viewers = viewers;
        opts.remoteViewersChanged?.(out.channelId);
      }),
      bus.subscribe('edge.unpiped', ({ pipeId }) => {
        for (const r of this.open.values()) if (r.pipeId === pipeId) r.room.close('origin stopped piping');
      }),
      bus.subscribe('channel.offline', ({ channelId }) => this.open.get(channelId)?.room.close('broadcast ended')),
    ];
  }

  private createPipe(router: ms.Router): Promise<ms.PipeTransport> {
    const { listenIp, announcedIp } = this.opts;
    // across hosts mediasoup advises SRTP (the pipe is plain UDP otherwise) and RTX (lost packets are asked for again)
    return router.createPipeTransport({ listenIp: { ip: listenIp, ...(announcedIp ? { announcedIp } : {}) }, enableSrtp: true, enableRtx: true });
  }

  /** Origin: opens our end of a pipe to the edge that asked, consuming every producer of the broadcast. */
  private async pipeOut(req: EdgeEvents['edge.pull']): Promise<Omit<EdgeEvents['edge.piped'], 'requestId'>> {
    const source = this.opts.originRoom(req.channelId)?.source;
    if (!source) throw new Error('that broadcast is not live here');
    const pipe = await this.createPipe(source.router);
    const pipeId = randomUUID();
    try {
      await pipe.connect({ ip: req.end.ip, port: req.end.port, srtpParameters: req.end.srtp as ms.SrtpParameters });
      const tracks: PipedTrack[] = [];
      for (const p of source.producers) {
        const consumer = await pipe.consume({ producerId: p.id });
        // the publisher dropped: the edge's producers would stay silent
        consumer.on('producerclose', () => pipe.close());
        tracks.push({ kind: consumer.kind, rtpParameters: consumer.rtpParameters as unknown as Record<string, unknown>, paused: consumer.producerPaused });
      }
      const out: Outgoing = { pipe, edge: req.edge, channelId: req.channelId, viewers: 0 };
      this.outgoing.set(pipeId, out);
      pipe.observer.once('close', () => {
        // closed here for any reason but the edge's release (publisher gone, room closed, the edge lapsed): it is told
        if (this.outgoing.delete(pipeId)) void this.opts.bus.publish('edge.unpiped', { pipeId });
        if (out.viewers) this.opts.remoteViewersChanged?.(req.channelId);
      });
      this.opts.log.info({ channel: req.channelId, edge: req.edge, pipe: pipeId }, 'piping a broadcast to an edge node');
      return { pipeId, end: pipeEnd(pipe), tracks };
    } catch (err) {
      pipe.close();
      throw err;
    }
  }

  /** Asks the origin for a pipe; resolves with its reply, rejects with its error or when none came in time. */
  private request(payload: Omit<EdgeEvents['edge.pull'], 'requestId'>): Promise<EdgeEvents['edge.piped']> {
    const requestId = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error('the origin node did not answer the pull'));
      }, PULL_TIMEOUT_MS);
      const off = this.opts.bus.subscribe('edge.piped', (reply) => {
        if (reply.requestId !== requestId) return;
        clearTimeout(timer);
        off();
        if (reply.error || !reply.end) reject(new Error(reply.error ?? 'no pipe'));
        else resolve(reply);
      });
      void this.opts.bus.publish('edge.pull', { ...payload, requestId });
    });
  }

  /**
   * Edge: the relay room serving the channel's broadcast here, opened (with its pipe from the origin) if needed;
   * undefined when no other node receives the broadcast (it is offline) or the origin could not pipe it. `admit`
   * runs before anything is opened for this caller (who may watch: a stranger opens no pipe for a channel it may not
   * watch); its rejection is the caller's.
   */
  async relay(channelId: string, slug: string, admit?: () => Promise<void>): Promise<Room | undefined> {
    if (this.closed) return undefined;
    if (!this.open.has(channelId)) {
      const origin = (await this.opts.nodes()).find((n) => n.id !== this.opts.nodeId && n.channels.some((c) => c.id === channelId));
      if (!origin) return undefined;
    }
    await admit?.();
    let pending = this.relays.get(channelId);
    if (!pending) {
      pending = this.pull(channelId, slug).catch((err: Error) => {
        this.opts.log.warn({ channel: slug, err: err.message }, 'could not pull a broadcast from its origin node');
        return undefined;
      });
      this.relays.set(channelId, pending);
      // a failed pull is not remembered: the next offer tries again
      void pending.then((r) => !r && this.relays.get(channelId) === pending && this.relays.delete(channelId));
    }
    return pending.then((r) => (r && !r.room.isClosed ? r.room : undefined));
  }

  private async pull(channelId: string, slug: string): Promise<Relay | undefined> {
    const origin = (await this.opts.nodes()).find((n) => n.id !== this.opts.nodeId && n.channels.some((c) => c.id === channelId));
    if (!origin) return undefined;
    const room = await this.opts.newRoom(channelId, slug);
    try {
      const pipe = await this.createPipe(room.router);
      const reply = await this.request({ channelId, edge: this.opts.nodeId, end: pipeEnd(pipe) });
      const relay: Relay = { channelId, room, pipeId: reply.pipeId, origin: origin.id };
      room.once('close', () => this.closed || void this.opts.bus.publish('edge.release', { pipeId: reply.pipeId }));
      await pipe.connect({ ip: reply.end!.ip, port: reply.end!.port, srtpParameters: reply.end!.srtp as ms.SrtpParameters });
      const producers: ms.Producer[] = [];
      for (const t of reply.tracks) {
        producers.push(await pipe.produce({
          kind: t.kind,
          rtpParameters: t.rtpParameters as unknown as ms.RtpParameters,
          paused: t.paused,
          ...keyframePacing(t.kind),
        }));
      }
      room.relay(pipe, producers);
      this.open.set(channelId, relay);
      room.once('close', () => {
        if (this.open.get(channelId) === relay) this.open.delete(channelId);
        if (this.relays.has(channelId)) this.relays.delete(channelId);
        this.opts.log.info({ channel: slug, reason: room.endReason }, 'edge relay closed');
      });
      // the origin counts the viewers here in the channel's; the relay closes with its last viewer, and one nobody
      // came to watch (the first offer failed) after a while
      room.on('viewers-changed', (n) => {
        void this.opts.bus.publish('edge.viewers', { pipeId: reply.pipeId, viewers: n });
        if (n === 0) room.close('last viewer left');
      });
      const idle = setTimeout(() => room.viewerCount === 0 && room.close('no viewer'), IDLE_RELAY_MS);
      idle.unref();
      room.once('close', () => clearTimeout(idle));
      this.opts.log.info({ channel: slug, origin: origin.id, pipe: reply.pipeId }, 'relaying a broadcast from its origin node');
      return relay;
    } catch (err) {
      room.close('pull failed');
      throw err;
    }
  }

  /** How many watch the channel's broadcast (received here) through edges now. */
  remoteViewers(channelId: string): number {
    let n = 0;
    for (const o of this.outgoing.values()) if (o.channelId === channelId) n += o.viewers;
    return n;
  }

  /** The relay rooms open now. */
  rooms(): Room[] {
    return [...this.open.values()].map((r) => r.room).filter((r) => !r.isClosed);
  }

  /**
   * With the registry as it is now: relays whose origin is gone (or holds the broadcast no more) close, and pipes to
   * edge nodes that are gone close.
   */
  look(nodes: SfuNodeState[]): void {
    for (const r of this.open.values()) {
      const origin = nodes.find((n) => n.id === r.origin);
      if (!origin || !origin.channels.some((c) => c.id === r.channelId)) r.room.close('origin node gone');
    }
    for (const o of this.outgoing.values()) if (!nodes.some((n) => n.id === o.edge)) o.pipe.close();
  }

  /** Closes every relay and every pipe to an edge. Idempotent. */
  close(): void {
    if (this.closed) return;
    for (const off of this.off) off();
    for (const r of this.rooms()) r.close('media server stopping');
    for (const o of [...this.outgoing.values()]) o.pipe.close();
    this.closed = true;
  }
}
