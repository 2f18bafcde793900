// This SFU process as one node of many: its entry in the node registry (shared/sfu-nodes.ts), kept fresh with what
// it holds, and its drain — no new broadcasts and no new viewers (the API's router sends them to another node), its
// viewers moved to the other nodes (which pull its broadcasts as edges), the broadcasts it holds left to end for a
// grace period, then ended (publishers reconnect and land elsewhere), then the process stops. A drain starts on
// SIGTERM or when an admin asks for it over the bus ('sfu.drain').
import type { MiddlewareHandler } from 'hono';
import type { EventBus } from '../../shared/bus.ts';
import { conflict, unavailable } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Db } from '../../shared/db/index.ts';
import { ENTRY_TTL_MS, redisNodes, registerNode, type NodeHeartbeat, type SfuNodes, type SfuNodeState } from '../../shared/sfu-nodes.ts';
import { OrphanSweep } from './orphans.ts';
import type { Sfu } from '../Sfu.ts';

/** Why a drained node's remaining broadcasts were ended. */
export const DRAINED = 'media server draining';
/** How often a draining node looks whether it is empty. */
const EMPTY_CHECK_MS = 500;
/** Seconds a refused client is told to wait: the router has another node for it at once. */
const RETRY_SECONDS = 1;

export type SfuNodeOptions = {
  id: string; capacity: number; redisUrl: string; redisPrefix: string; drainGraceMs: number; db: Db; bus: EventBus; log: Logger;
  /** whether other nodes pull broadcasts from here (SFU_EDGE_PULL): only then can a draining origin's viewers move */
  edgePull: boolean;
};

export class SfuNode {
  private heartbeat: NodeHeartbeat | undefined;
  private sfu: Sfu | undefined;
  private drained: Promise<void> | undefined;
  private offDrain: (() => void) | undefined;
  /** the registry as the sweep for dead nodes' broadcasts reads it, and that sweep's timer */
  private registry: SfuNodes | undefined;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  /** set once a drain began */
  draining = false;
  /** set when the drain moved this node's viewers to the other nodes: it takes no viewer any more */
  private viewersMoved = false;

  constructor(private readonly opts: SfuNodeOptions) {}

  /** The other nodes registered now (read on a connection of its own before join, when the Sfu starts). */
  private async others(): Promise<SfuNodeState[]> {
    const mine = this.registry;
    const nodes = mine ?? (await redisNodes(this.opts.redisUrl, this.opts.redisPrefix, this.opts.log));
    try {
      return (await nodes.list()).filter((n) => n.id !== this.opts.id);
    } finally {
      if (!mine) await nodes.close();
    }
  }

  /**
   * Whether a new broadcast of the channel may start here (Sfu's mayStart, for WHIP and RTMP): not while draining,
   * and not while another node holds it (its live session is open there: a publisher sent straight to this node, or
   * an encoder pointed at this node's RTMP address while the channel is live elsewhere). RTMP has no redirect, so the
   * refusal is the encoder's error (and this node's log line) — the streamer points it at a node that takes it.
   */
  async mayStart(channelId: string): Promise<void> {
    if (this.draining) throw unavailable(`Media server ${this.opts.id} is draining (stopping) and takes no new broadcast; publish to another node.`, RETRY_SECONDS * 1000);
    // a registry that cannot be read (Redis away) refuses nothing: the one-open-session index still holds
    const holder = (await this.others().catch(() => [])).find((n) => n.channels.some((c) => c.id === channelId));
    if (holder) throw conflict(`This channel is live on media server ${holder.id}; end that broadcast first.`);
  }

  /** The nodes registered now, as the sweep's connection reads them (none before join). */
  async nodes(): Promise<SfuNodeState[]> {
    return (await this.registry?.list()) ?? [];
  }

  /** The channels other nodes hold now (read before this node's Sfu ends what it thinks a previous run left open). */
  async heldElsewhere(): Promise<string[]> {
    return (await this.others()).flatMap((n) => n.channels.map((c) => c.id));
  }

  /** Registers the node at `url` (beating every HEARTBEAT_MS) and listens for an admin's drain; `stop` ends the process. */
  async join(sfu: Sfu, url: string, stop: () => void): Promise<void> {
    this.sfu = sfu;
    const { id, capacity, redisUrl, redisPrefix, log } = this.opts;
    this.heartbeat = await registerNode(redisUrl, redisPrefix, () => {
      const { viewers, channels, relays } = sfu.holding();
      return { id, url, capacity, load: viewers, channels, relays, draining: this.draining };
    }, log);
    const off = [
      this.opts.bus.subscribe('sfu.drain', ({ nodeId }) => {
        if (nodeId !== id) return;
        log.info({ node: id }, 'asked to drain');
        void this.drain().then(stop);
      }),
      // a broadcast starting or ending here is in the registry at once, not at the next beat: its viewers are
      // routed to it from its first second, and a node starting a moment later sees it as held here (it would
      // otherwise end its live session as one a previous run of its own left open)
      this.opts.bus.subscribe('channel.live', ({ channelId }) => {
        if (sfu.holding().channels.some((c) => c.id === channelId)) void this.heartbeat?.beat();
      }),
      this.opts.bus.subscribe('channel.offline', () => void this.heartbeat?.beat()),
    ];
    this.offDrain = () => off.forEach((f) => f());
    // a node that died ends nothing: whichever node looks ends its broadcasts (orphans.ts)
    this.registry = await redisNodes(redisUrl, redisPrefix, log);
    const sweep = new OrphanSweep(this.opts.db, this.opts.bus);
    this.sweepTimer = setInterval(() => {
      void this.registry?.list().then(async (nodes) => {
        // only a registry that lists this node has been written since Redis last (re)started
        if (!nodes.some((n) => n.id === id)) return;
        sfu.edge?.look(nodes);
        const ended = await sweep.look(nodes);
        if (ended.length) log.warn({ sessions: ended.length }, 'ended the broadcasts of a media server that is gone');
      }).catch((err) => log.warn({ err }, 'could not look for broadcasts of media servers that are gone'));
    }, ENTRY_TTL_MS / 2);
    (this.sweepTimer as { unref?: () => void }).unref?.();
  }

  /**
   * Refuses what would start something new here while draining: a WHIP offer for a channel this node does not hold
   * (one it holds is a second publisher, refused by its room), and a WHEP offer — any, once the drain moved the viewers
   * (other nodes pull the broadcasts held here), else one for a channel not held here. 503 with Retry-After: the
   * router tries the nodes left.
   */
  refuseWhileDraining(): MiddlewareHandler {
    return async (c, next) => {
      if (!this.draining || c.req.method !== 'POST') return next();
      const offer = /^\/(whip|whep)\/([^/]+)$/.exec(c.req.path);
      if (!offer || (!(offer[1] === 'whep' && this.viewersMoved) && this.sfu?.room(offer[2]!))) return next();
      throw unavailable('This media server is stopping; try again (another one takes the broadcast).', RETRY_SECONDS * 1000);
    };
  }

  /**
   * Takes no new broadcasts and no new viewers (the registry says so at once, and routing sends them elsewhere). When
   * another node is there to take them (and edge pull is on): every viewer here is moved — its session ends, and its
   * player's reconnect lands on another node, which pulls the broadcast from here, so the broadcasts held here go on
   * for their publishers — and a publisher that drops ends its broadcast at once, so that its reconnect opens it on a
   * node that stays. Waits until the broadcasts here have ended or the grace period is over, then ends those left
   * (WHIP has no "move": the publisher's reconnect, or the streamer's next start, goes to another node). Alone (one
   * SFU, or every other node draining too) there is nowhere for anything to go: it ends them at once. Idempotent: a
   * second call waits for the first.
   */
  drain(): Promise<void> {
    this.drained ??= (async () => {
      this.draining = true;
      await this.heartbeat?.beat();
      const { log, drainGraceMs, id, edgePull } = this.opts;
      const elsewhere = (await this.others().catch(() => [])).some((n) => !n.draining);
      if (elsewhere && this.sfu) {
        this.viewersMoved = edgePull;
        const moved = this.sfu.beginDrain(DRAINED, edgePull);
        log.info({ node: id, viewers: moved, broadcasts: this.sfu.holding().channels.length }, 'draining: viewers moved to other nodes, broadcasts kept until their publishers leave or the grace ends');
      }
      const until = Date.now() + (elsewhere ? drainGraceMs : 0);
      while (this.sfu && this.sfu.holding().channels.length && Date.now() < until) await new Promise((r) => setTimeout(r, EMPTY_CHECK_MS));
      const left = this.sfu?.holding().channels.length ?? 0;
      if (left) log.warn({ node: id, broadcasts: left }, 'drain grace over; ending the broadcasts left');
      this.sfu?.endAll(DRAINED);
      log.info({ node: id }, 'drained');
    })();
    return this.drained;
  }

  /** Leaves the registry (deleting the entry: no API waits for it to lapse). Idempotent. */
  async leave(): Promise<void> {
    this.offDrain?.();
    this.offDrain = undefined;
    clearInterval(this.sweepTimer);
    await this.registry?.close();
    this.registry = undefined;
    await this.heartbeat?.stop();
  }
}
