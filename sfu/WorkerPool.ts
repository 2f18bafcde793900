// mediasoup workers, one per core by default; each new room goes to the worker with the fewest rooms, and each viewer
// (of any room: sfu/Fanout.ts) to the worker with the fewest viewers, so one channel can use every core.
// WebRTC goes through one WebRtcServer per worker (one UDP and one TCP port), so a channel's viewers are bounded by
// what its worker can forward, not by a slice of a port range; plain RTP transports (the RTMP bridge, the recorder)
// take ports from the whole RTC_MIN_PORT..RTC_MAX_PORT range on every worker: mediasoup 3.12's PortManager binds
// without SO_REUSEADDR and moves on to the next port when bind() fails, so ranges shared across workers are safe.
// A worker that dies leaves the pool at once (its routers, and so its rooms, are gone: mediasoup emits `workerclose`
// on each) and a new one takes its place, with its index and its WebRtcServer port, so capacity comes back.
import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { unavailable } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { MEDIA_CODECS } from './codecs.ts';

/** A router on one worker (its index), with that worker's WebRtcServer; release() when the room (or branch) closes. */
export type Placement = { router: ms.Router; webRtcServer: ms.WebRtcServer; worker: number; release(): void };

export type PoolOptions = {
  count: number;
  /** worker i's WebRtcServer listens on port + i (UDP and TCP); 0 → a free port from the plain range */
  port: number;
  minPort: number;
  maxPort: number;
  listenIp: string;
  announcedIp: string | undefined;
  log: Logger;
};

/** `rooms`: rooms whose origin router is here; `viewers`: viewers seated here, of every room (the load that places them) */
type Slot = { worker: ms.Worker; webRtcServer: ms.WebRtcServer; rooms: number; viewers: number; dead: boolean };

export type PoolEvents = {
  /** worker `index` died and left the pool; a replacement is being started */
  'worker-died': [index: number, pid: number];
  /** a worker took the place of the one at `index` that died */
  'worker-replaced': [index: number, pid: number];
};

/** How long to wait before trying again when a dead worker's replacement cannot start. */
const RESPAWN_RETRY_MS = 1_000;

export class WorkerPool extends EventEmitter<PoolEvents> {
  private closed = false;
  private readonly respawnTimers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly slots: Slot[],
    private readonly opts: PoolOptions,
  ) {
    super();
    slots.forEach((slot, i) => this.watch(slot, i));
  }

  private get log() {
    return this.opts.log;
  }

  static async create(opts: PoolOptions): Promise<WorkerPool> {
    const count = Math.max(2, opts.count); // at least two, so any router can pipe to another worker
    const slots: Slot[] = [];
    try {
      for (let i = 0; i < count; i++) slots.push(await WorkerPool.spawn(opts, i));
    } catch (err) {
      for (const s of slots) s.worker.close();
      throw err;
    }
    opts.log.info({ workers: slots.length, ports: await Promise.all(slots.map((s) => WorkerPool.portsOf(s.webRtcServer))) }, 'mediasoup workers ready');
    return new WorkerPool(slots, opts);
  }

  /** Worker `i` with its WebRtcServer (on RTC_PORT + i when set). */
  private static async spawn(opts: PoolOptions, i: number): Promise<Slot> {
    const worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: opts.minPort, rtcMaxPort: opts.maxPort });
    const at = (protocol: 'udp' | 'tcp') => ({
      protocol,
      ip: opts.listenIp,
      ...(opts.announcedIp ? { announcedIp: opts.announcedIp } : {}),
      ...(opts.port ? { port: opts.port + i } : {}),
    });
    try {
      const webRtcServer = await worker.createWebRtcServer({ listenInfos: [at('udp'), at('tcp')] });
      return { worker, webRtcServer, rooms: 0, viewers: 0, dead: false };
    } catch (err) {
      worker.close();
      const where = opts.port ? `port ${opts.port + i}` : `a port in ${opts.minPort}-${opts.maxPort}`;
      throw new Error(`mediasoup worker ${i} cannot listen for WebRTC on ${opts.listenIp} ${where} (${(err as Error).message}); set RTC_PORT`);
    }
  }

  /** On death: out of the pool, announced (rooms on it close through their routers' `workerclose`), replaced. */
  private watch(slot: Slot, i: number): void {
    slot.worker.once('died', (err) => {
      slot.dead = true;
      this.log.error({ err, pid: slot.worker.pid, worker: i }, 'mediasoup worker died; replacing it');
      this.emit('worker-died', i, slot.worker.pid);
      void this.respawn(i);
    });
  }

  private async respawn(i: number): Promise<void> {
    if (this.closed) return;
    let slot: Slot;
    try {
      slot = await WorkerPool.spawn(this.opts, i);
    } catch (err) {
      this.log.error({ err, worker: i }, 'could not replace a dead mediasoup worker; trying again');
      const timer = setTimeout(() => {
        this.respawnTimers.delete(timer);
        void this.respawn(i);
      }, RESPAWN_RETRY_MS);
      timer.unref();
      this.respawnTimers.add(timer);
      return;
    }
    if (this.closed) return slot.worker.close();
    this.slots[i] = slot;
    this.watch(slot, i);
    this.log.info({ pid: slot.worker.pid, worker: i, ports: await WorkerPool.portsOf(slot.webRtcServer).catch(() => []) }, 'mediasoup worker replaced');
    this.emit('worker-replaced', i, slot.worker.pid);
  }

  /** Workers alive (a dead one's replacement counts once it is up). */
  get size(): number {
    return this.live().length;
  }

  private live(): Slot[] {
    return this.slots.filter((s) => !s.dead);
  }

  private static async portsOf(server: ms.WebRtcServer): Promise<number[]> {
    const dump = (await server.dump()) as { udpSockets?: { port: number }[]; tcpServers?: { port: number }[] };
    return [...(dump.udpSockets ?? []), ...(dump.tcpServers ?? [])].map((s) => s.port);
  }

  /** The UDP and TCP port of each worker's WebRtcServer (what a firewall must let through). */
  async ports(): Promise<number[][]> {
    return Promise.all(this.live().map((s) => WorkerPool.portsOf(s.webRtcServer)));
  }

  /** A room's origin router, on the worker with the fewest rooms. No worker up is a 503. release() when it closes. */
  async createRouter(opts: { mediaCodecs?: ms.RtpCodecCapability[] } = {}): Promise<Placement> {
    if (this.closed) throw new Error('worker pool is closed');
    const candidates = this.slots.map((s, i) => ({ s, i })).filter(({ s }) => !s.dead);
    if (!candidates.length) throw unavailable('No media worker is up right now (one is being restarted); try again shortly.', RESPAWN_RETRY_MS);
    const { i: worker } = candidates.sort((a, b) => a.s.rooms - b.s.rooms)[0]!;
    return this.routerOn(worker, opts.mediaCodecs, true);
  }

  /**
   * A router on worker `worker` (a fan-out branch: sfu/Fanout.ts), counted as a room when `room`. A worker that is
   * dead (being replaced) is a 503. release() must be called when the router closes.
   */
  async routerOn(worker: number, mediaCodecs: ms.RtpCodecCapability[] = MEDIA_CODECS, room = false): Promise<Placement> {
    if (this.closed) throw new Error('worker pool is closed');
    const slot = this.slots[worker];
    if (!slot || slot.dead) throw unavailable('That media worker is being restarted; try again shortly.', RESPAWN_RETRY_MS);
    if (room) slot.rooms++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (room) slot.rooms = Math.max(0, slot.rooms - 1);
    };
    try {
      const router = await slot.worker.createRouter({ mediaCodecs });
      return { router, webRtcServer: slot.webRtcServer, worker, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Viewers seated on each live worker (of every room): where the next viewer goes is the least loaded. */
  loads(): { worker: number; viewers: number }[] {
    return this.slots.flatMap((s, worker) => (s.dead ? [] : [{ worker, viewers: s.viewers }]));
  }

  /** Counts one viewer on `worker` until the returned release() (idempotent; a replaced worker's count starts at 0). */
  seat(worker: number): () => void {
    const slot = this.slots[worker];
    if (!slot) throw new Error(`no media worker ${worker}`);
    slot.viewers++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      slot.viewers = Math.max(0, slot.viewers - 1);
    };
  }

  /**
   * Routers and WebRTC transports alive on every worker (a pool with no room open holds none), and the transports
   * the WebRtcServers' objects in this process still hold (more than the workers have is a leak of closed ones).
   */
  async held(): Promise<{ routers: number; webRtcTransports: number; webRtcTransportObjects: number }> {
    let routers = 0;
    let webRtcTransports = 0;
    let webRtcTransportObjects = 0;
    for (const s of this.live()) {
      routers += ((await s.worker.dump()) as { routerIds: string[] }).routerIds.length;
      webRtcTransports += ((await s.webRtcServer.dump()) as { webRtcTransportIds: string[] }).webRtcTransportIds.length;
      webRtcTransportObjects += s.webRtcServer.webRtcTransportsForTesting.size;
    }
    return { routers, webRtcTransports, webRtcTransportObjects };
  }

  /** Per-worker rooms, viewers and resource usage (for metrics, tests and benchmarks). */
  async usage() {
    const live = this.slots.flatMap((s, worker) => (s.dead ? [] : [{ s, worker }]));
    return Promise.all(live.map(async ({ s, worker }) => ({ worker, pid: s.worker.pid, rooms: s.rooms, viewers: s.viewers, usage: await s.worker.getResourceUsage() })));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.respawnTimers) clearTimeout(timer);
    for (const s of this.slots) s.worker.close();
    this.log.debug('mediasoup workers closed');
  }
}
