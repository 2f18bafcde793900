// mediasoup workers, one per core by default; each new room goes to the worker with the fewest rooms.
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import type { Logger } from '../shared/logger.ts';
import { MEDIA_CODECS } from './codecs.ts';

export class WorkerPool {
  private readonly rooms = new Map<ms.Worker, number>();
  private readonly workerOf = new WeakMap<ms.Router, number>();
  private closed = false;

  private constructor(
    private readonly workers: ms.Worker[],
    private readonly log: Logger,
  ) {
    for (const w of workers) this.rooms.set(w, 0);
  }

  static async create(opts: { count: number; minPort: number; maxPort: number; log: Logger }): Promise<WorkerPool> {
    opts = { ...opts, count: Math.max(2, opts.count) }; // at least two, so any router can pipe to another worker
    const span = Math.floor((opts.maxPort - opts.minPort + 1) / opts.count);
    const workers: ms.Worker[] = [];
    for (let i = 0; i < opts.count; i++) {
      // each worker gets its own slice of the port range
      const w = await mediasoup.createWorker({
        logLevel: 'warn',
        rtcMinPort: opts.minPort + i * span,
        rtcMaxPort: i === opts.count - 1 ? opts.maxPort : opts.minPort + (i + 1) * span - 1,
      });
      w.on('died', (err) => opts.log.fatal({ err, pid: w.pid }, 'mediasoup worker died'));
      workers.push(w);
    }
    opts.log.info({ workers: workers.length }, 'mediasoup workers ready');
    return new WorkerPool(workers, opts.log);
  }

  /**
   * A router on the least-loaded worker (other than `avoid`: mediasoup 3.12 pipes only between workers);
   * release() must be called when its room closes.
   */
  async createRouter(opts: { mediaCodecs?: ms.RtpCodecCapability[]; avoid?: ms.Router } = {}): Promise<{ router: ms.Router; release(): void }> {
    if (this.closed) throw new Error('worker pool is closed');
    const avoidPid = opts.avoid ? this.workerOf.get(opts.avoid) : undefined;
    const worker = [...this.rooms].filter(([w]) => w.pid !== avoidPid).sort((a, b) => a[1] - b[1])[0]![0];
    this.rooms.set(worker, (this.rooms.get(worker) ?? 0) + 1);
    const router = await worker.createRouter({ mediaCodecs: opts.mediaCodecs ?? MEDIA_CODECS });
    this.workerOf.set(router, worker.pid);
    let released = false;
    return {
      router,
      release: () => {
        if (released) return;
        released = true;
        this.rooms.set(worker, Math.max(0, (this.rooms.get(worker) ?? 1) - 1));
      },
    };
  }

  /** Per-worker resource usage (for metrics and benchmarks). */
  async usage() {
    return Promise.all(this.workers.map(async (w) => ({ pid: w.pid, rooms: this.rooms.get(w) ?? 0, usage: await w.getResourceUsage() })));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) w.close();
    this.log.debug('mediasoup workers closed');
  }
}
