// mediasoup workers, one per core by default; each new room goes to the worker with the fewest rooms.
// WebRTC goes through one WebRtcServer per worker (one UDP and one TCP port), so a channel's viewers are bounded by
// what its worker can forward, not by a slice of a port range; plain RTP transports (the RTMP bridge, the recorder)
// take ports from the whole RTC_MIN_PORT..RTC_MAX_PORT range on every worker: mediasoup 3.12's PortManager binds
// without SO_REUSEADDR and moves on to the next port when bind() fails, so ranges shared across workers are safe.
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { unavailable } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { MEDIA_CODECS } from './codecs.ts';

/** A router on one worker (its index), with that worker's WebRtcServer; release() when the room (or edge) closes. */
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

type Slot = { worker: ms.Worker; webRtcServer: ms.WebRtcServer; rooms: number };

export class WorkerPool {
  private closed = false;

  private constructor(
    private readonly slots: Slot[],
    private readonly log: Logger,
  ) {}

  static async create(opts: PoolOptions): Promise<WorkerPool> {
    const count = Math.max(2, opts.count); // at least two, so any router can pipe to another worker
    const slots: Slot[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: opts.minPort, rtcMaxPort: opts.maxPort });
        worker.on('died', (err) => opts.log.fatal({ err, pid: worker.pid }, 'mediasoup worker died'));
        const at = (protocol: 'udp' | 'tcp') => ({
          protocol,
          ip: opts.listenIp,
          ...(opts.announcedIp ? { announcedIp: opts.announcedIp } : {}),
          ...(opts.port ? { port: opts.port + i } : {}),
        });
        let webRtcServer: ms.WebRtcServer;
        try {
          webRtcServer = await worker.createWebRtcServer({ listenInfos: [at('udp'), at('tcp')] });
        } catch (err) {
          worker.close();
          const where = opts.port ? `port ${opts.port + i}` : `a port in ${opts.minPort}-${opts.maxPort}`;
          throw new Error(`mediasoup worker ${i} cannot listen for WebRTC on ${opts.listenIp} ${where} (${(err as Error).message}); set RTC_PORT`);
        }
        slots.push({ worker, webRtcServer, rooms: 0 });
      }
    } catch (err) {
      for (const s of slots) s.worker.close();
      throw err;
    }
    opts.log.info({ workers: slots.length, ports: await Promise.all(slots.map((s) => WorkerPool.portsOf(s.webRtcServer))) }, 'mediasoup workers ready');
    return new WorkerPool(slots, opts.log);
  }

  private static async portsOf(server: ms.WebRtcServer): Promise<number[]> {
    const dump = (await server.dump()) as { udpSockets?: { port: number }[]; tcpServers?: { port: number }[] };
    return [...(dump.udpSockets ?? []), ...(dump.tcpServers ?? [])].map((s) => s.port);
  }

  /** The UDP and TCP port of each worker's WebRtcServer (what a firewall must let through). */
  async ports(): Promise<number[][]> {
    return Promise.all(this.slots.map((s) => WorkerPool.portsOf(s.webRtcServer)));
  }

  /**
   * A router on the least-loaded worker other than those in `avoid` (an edge router must be on a worker that holds
   * none of its room's producers: mediasoup 3.12 pipes only between workers, and a piped producer keeps its id, so
   * two pipes of one producer into one worker collide). No such worker left is a 503. release() must be called when
   * the router closes.
   */
  async createRouter(opts: { mediaCodecs?: ms.RtpCodecCapability[]; avoid?: number[] } = {}): Promise<Placement> {
    if (this.closed) throw new Error('worker pool is closed');
    const candidates = this.slots.map((s, i) => ({ s, i })).filter(({ i }) => !opts.avoid?.includes(i));
    if (!candidates.length) throw unavailable('Every media worker already serves this channel; try again shortly.', 10_000);
    const { s: slot, i: worker } = candidates.sort((a, b) => a.s.rooms - b.s.rooms)[0]!;
    slot.rooms++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      slot.rooms = Math.max(0, slot.rooms - 1);
    };
    try {
      const router = await slot.worker.createRouter({ mediaCodecs: opts.mediaCodecs ?? MEDIA_CODECS });
      return { router, webRtcServer: slot.webRtcServer, worker, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * Routers and WebRTC transports alive on every worker (a pool with no room open holds none), and the transports
   * the WebRtcServers' objects in this process still hold (more than the workers have is a leak of closed ones).
   */
  async held(): Promise<{ routers: number; webRtcTransports: number; webRtcTransportObjects: number }> {
    let routers = 0;
    let webRtcTransports = 0;
    let webRtcTransportObjects = 0;
    for (const s of this.slots) {
      routers += ((await s.worker.dump()) as { routerIds: string[] }).routerIds.length;
      webRtcTransports += ((await s.webRtcServer.dump()) as { webRtcTransportIds: string[] }).webRtcTransportIds.length;
      webRtcTransportObjects += s.webRtcServer.webRtcTransportsForTesting.size;
    }
    return { routers, webRtcTransports, webRtcTransportObjects };
  }

  /** Per-worker resource usage (for metrics and benchmarks). */
  async usage() {
    return Promise.all(this.slots.map(async (s) => ({ pid: s.worker.pid, rooms: s.rooms, usage: await s.worker.getResourceUsage() })));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots) s.worker.close();
    this.log.debug('mediasoup workers closed');
  }
}
