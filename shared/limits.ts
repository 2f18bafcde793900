// Caps on what one address (or anyone) may take: rates (requests per window) and concurrency (connections held at
// once). Every surface a stranger reaches — HTTP, WHIP/WHEP, RTMP, chat — uses these two shapes, so a refusal always
// carries how long to wait.
import type * as Limiters from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { loadCommonJs } from './host/paths.ts';

// rate-limiter-flexible's index loads every store it supports (~8 MB resident); only these two are used
const RateLimiterMemory = loadCommonJs<typeof Limiters.RateLimiterMemory>('rate-limiter-flexible/lib/RateLimiterMemory.js');
const RateLimiterRes = loadCommonJs<typeof Limiters.RateLimiterRes>('rate-limiter-flexible/lib/RateLimiterRes.js');
const redisLimiter = () => loadCommonJs<typeof Limiters.RateLimiterRedis>('rate-limiter-flexible/lib/RateLimiterRedis.js');

/** The outcome of taking from a budget: allowed, or refused with the wait until the budget has room again. */
export type Take = { ok: true } | { ok: false; retryAfterMs: number };

/** `points` per `seconds` per key. */
export type RateOptions = { name: string; points: number; seconds: number };

/**
 * A fixed-window rate limit per key. In this process by default; with a Redis client the budget is shared by every
 * process using the same Redis (a user reaching two API processes has one budget). A Redis that does not answer
 * falls back to this process's own budget rather than refusing everyone or letting everyone through.
 */
export class RateLimit {
  private readonly local: Limiters.RateLimiterAbstract;
  private readonly shared: Limiters.RateLimiterAbstract | undefined;

  constructor(opts: RateOptions & { redis?: Redis; prefix?: string }) {
    const limit = { points: opts.points, duration: opts.seconds };
    this.local = new RateLimiterMemory({ keyPrefix: `limit:${opts.name}`, ...limit });
    this.shared = opts.redis
      ? new (redisLimiter())({ storeClient: opts.redis, keyPrefix: `${opts.prefix ?? 'glint:'}limit:${opts.name}`, ...limit })
      : undefined;
  }

  /** Takes `points` (1 by default) from `key`'s budget. */
  async take(key: string, points = 1): Promise<Take> {
    try {
      await (this.shared ?? this.local).consume(key, points);
      return { ok: true };
    } catch (err) {
      if (err instanceof RateLimiterRes) return { ok: false, retryAfterMs: Math.max(1, err.msBeforeNext) };
      if (this.shared) {
        // the store failed (Redis down): this process's own budget still holds the line
        try {
          await this.local.consume(key, points);
          return { ok: true };
        } catch (e) {
          if (e instanceof RateLimiterRes) return { ok: false, retryAfterMs: Math.max(1, e.msBeforeNext) };
        }
      }
      throw err;
    }
  }
}

/**
 * How many things (connections, viewers, sessions) are held at once, per key and in total. `acquire` returns a
 * release function (idempotent) or undefined when either cap is reached.
 */
export class ConcurrencyCap {
  private readonly perKey = new Map<string, number>();
  private held = 0;

  constructor(readonly opts: { perKey: number; total: number }) {}

  get total(): number {
    return this.held;
  }

  count(key: string): number {
    return this.perKey.get(key) ?? 0;
  }

  /** Why `key` cannot take one more, or undefined when it can. */
  refusal(key: string): 'total' | 'per-key' | undefined {
    if (this.held >= this.opts.total) return 'total';
    if (this.count(key) >= this.opts.perKey) return 'per-key';
    return undefined;
  }

  acquire(key: string): (() => void) | undefined {
    if (this.refusal(key)) return undefined;
    this.held++;
    this.perKey.set(key, this.count(key) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
      const left = this.count(key) - 1;
      if (left > 0) this.perKey.set(key, left);
      else this.perKey.delete(key);
    };
  }
}
