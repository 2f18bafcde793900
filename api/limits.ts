// The API's budgets per address, per user and in total, built once from config: in this process, or in Redis (with
// REDIS_URL) so every API process draws from the same budget. better-auth's own per-address limits use the same
// store (`authStorage`), so sign-in attempts spread over several processes still add up.
import type { Redis } from 'ioredis';
import type { Config } from '../shared/config.ts';
import { rateLimited, unavailable } from '../shared/errors.ts';
import { ConcurrencyCap, RateLimit } from '../shared/limits.ts';
import type { Logger } from '../shared/logger.ts';
import { closeRedis, openRedis } from '../shared/redis.ts';

/** better-auth's rate-limit storage shape (options.rateLimit.customStorage). */
export type AuthLimitStorage = {
  consume(key: string, rule: { window: number; max: number }): Promise<{ allowed: boolean; retryAfter: number | null }>;
};

export class ApiLimits {
  readonly signUpsPerAddress: RateLimit;
  readonly signUps: RateLimit;
  readonly channelCreates: RateLimit;
  readonly streamKeyCreates: RateLimit;
  readonly follows: RateLimit;
  readonly searches: RateLimit;
  /** searches running now in this process, whoever asked */
  readonly searchesRunning: ConcurrencyCap;
  /** tus requests (api/uploads.ts) per address */
  readonly uploadRequests: RateLimit;
  /** upload chunks being received now in this process, per address and in all */
  readonly uploadsRunning: ConcurrencyCap;
  private readonly authRules = new Map<string, RateLimit>();
  private readonly prefix: string;

  private constructor(
    config: Config,
    private readonly redis: Redis | undefined,
  ) {
    const l = config.limits;
    const make = (name: string, points: number, seconds: number) => new RateLimit({ name, points, seconds, redis, prefix: config.redisPrefix });
    this.signUpsPerAddress = make('signup-address', l.signUpsPerAddressHour, 3600);
    this.signUps = make('signup-total', l.signUpsPerHour, 3600);
    this.channelCreates = make('channel-create', l.channelsPerUserHour, 3600);
    this.streamKeyCreates = make('stream-key-create', l.streamKeysPerUserHour, 3600);
    this.follows = make('follow', l.followsPerUserMinute, 60);
    this.searches = make('search', l.searchesPerAddressSecond, 1);
    this.searchesRunning = new ConcurrencyCap({ perKey: l.searchConcurrency, total: l.searchConcurrency });
    this.uploadRequests = make('upload-request', config.uploads.requestsPerAddressMinute, 60);
    this.uploadsRunning = new ConcurrencyCap({ perKey: config.uploads.perAddress, total: config.uploads.total });
    this.prefix = config.redisPrefix;
  }

  static async create(config: Config, log?: Logger): Promise<ApiLimits> {
    if (!config.redisUrl) return new ApiLimits(config, undefined);
    // a limiter must never hang a request: commands fail at once while Redis is away and RateLimit falls back to this
    // process's budget
    return new ApiLimits(config, await openRedis(config.redisUrl, 'limits', 'command', log));
  }

  /** better-auth's limits (its rules, windows in seconds) kept in the same store as Glint's. */
  readonly authStorage: AuthLimitStorage = {
    consume: async (key, rule) => {
      const id = `${rule.max}/${rule.window}`;
      let limit = this.authRules.get(id);
      if (!limit) {
        limit = new RateLimit({ name: `auth-${rule.max}-${rule.window}`, points: rule.max, seconds: rule.window, redis: this.redis, prefix: this.prefix });
        this.authRules.set(id, limit);
      }
      const took = await limit.take(key);
      return took.ok ? { allowed: true, retryAfter: null } : { allowed: false, retryAfter: Math.max(1, Math.ceil(took.retryAfterMs / 1000)) };
    },
  };

  /** Takes one from each budget in turn; throws a 429 problem (with Retry-After) naming `what` at the first refusal. */
  async take(what: string, ...budgets: [RateLimit, string][]): Promise<void> {
    for (const [limit, key] of budgets) {
      const took = await limit.take(key);
      if (!took.ok) throw rateLimited(`Too many ${what}; try again in ${Math.ceil(took.retryAfterMs / 1000)} s.`, took.retryAfterMs);
    }
  }

  /** Runs `fn` as one of the searches allowed at once, or throws a 503 problem to retry in a second. */
  async searching<T>(fn: () => Promise<T>): Promise<T> {
    const release = this.searchesRunning.acquire('all');
    if (!release) throw unavailable('Search is busy; try again in a moment.', 1000);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    if (this.redis) await closeRedis(this.redis);
  }
}
