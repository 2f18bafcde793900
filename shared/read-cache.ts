// A cache of public reads (a channel's JSON, its VoD list, the chat a join receives), so a crowd arriving at a popular
// channel at once costs one database read per key instead of one per viewer. In this process (embedded default: one
// API process) or in Redis (REDIS_URL: shared by every API process).
// Correct after a write, not just eventually: a write invalidates the keys it changes before it answers (or, for
// another process's writes, when its bus event arrives), and a load that began before an invalidation never becomes
// the cached answer — in memory its load is no longer the key's current one, in Redis its value carries the key's
// generation from before the load, which the invalidation moved on.
// Portable (Node and Deno): no node: module; Redis through shared/redis.ts.
import type { Redis } from 'ioredis';
import { throttledWarn, type Logger } from './logger.ts';
import { closeRedis, openRedis } from './redis.ts';

export type ReadCacheOptions = {
  /** how long an entry lives at most (a safety net: invalidation is what keeps it right) */
  ttlMs: number;
  /** entries this process keeps (memory); the least recently read go first */
  maxEntries: number;
};

/** What a load answers: the value to cache, and optionally a shorter life for it (a premiere due before the TTL). */
export type Loaded<T> = { value: T; ttlMs?: number };

export interface ReadCache {
  readonly kind: 'memory' | 'redis' | 'off';
  /**
   * The value of `key`: the cached one, else what `load` answers (cached for the TTL, or its own shorter ttlMs).
   * Concurrent reads of one key in this process share one lookup and one load. Values are JSON (Redis stores them
   * as JSON; memory hands out the same object to every reader: never change one).
   */
  get<T>(key: string, load: () => Promise<Loaded<T>>): Promise<T>;
  /** Forgets these keys everywhere the cache is shared; a read after this resolves loads them again. */
  invalidate(keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** Readers of a key while its read is in progress share it: `start` runs once, and the read is forgotten when it
 * settles (unless an invalidation removed or replaced it first). */
function shared<T>(inFlight: Map<string, Promise<unknown>>, key: string, start: () => Promise<T>): Promise<T> {
  const pending = inFlight.get(key);
  if (pending) return pending as Promise<T>;
  const running = start();
  inFlight.set(key, running);
  const forget = () => {
    if (inFlight.get(key) === running) inFlight.delete(key);
  };
  running.then(forget, forget);
  return running;
}

/** In-process cache: a bounded LRU (Map order is recency order) with a TTL per entry. */
export class MemoryReadCache implements ReadCache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { value: unknown; expires: number }>();
  /** loads in progress; an invalidation removes a key's, so its result is not stored and later reads load anew */
  private readonly loads = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: ReadCacheOptions) {}

  get<T>(key: string, load: () => Promise<Loaded<T>>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      if (hit.expires > Date.now()) {
        this.entries.set(key, hit); // most recently read now
        return Promise.resolve(hit.value as T);
      }
    }
    const loading: Promise<T> = shared(this.loads, key, () =>
      load().then(({ value, ttlMs }) => {
        if (this.loads.get(key) === loading) this.store(key, value, Math.min(ttlMs ?? Infinity, this.opts.ttlMs));
        return value;
      }),
    );
    return loading;
  }

  private store(key: string, value: unknown, ttlMs: number) {
    if (ttlMs <= 0) return;
    this.entries.set(key, { value, expires: Date.now() + ttlMs });
    // the oldest read goes first (Map iterates in insertion order, and a hit re-inserts)
    while (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  async invalidate(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      this.entries.delete(key);
      this.loads.delete(key);
    }
  }

  /** Entries held now (tests check the bound). */
  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.loads.clear();
  }
}

/**
 * A key's generation outlives any value stored under it by far: a value is only served when its generation is the
 * key's current one, and a generation that expired and restarted could meet an old value again only if that value
 * outlived this.
 */
const GENERATION_TTL_MS = 24 * 3600 * 1000;

/**
 * Redis cache shared by every API process: `<prefix>rc:v:<key>` holds `{ g, v }` (the value and the generation it
 * was loaded under), `<prefix>rc:g:<key>` the key's generation, which an invalidation increments (and drops the
 * value). A read is one MGET of both. Redis away: reads load from the database (logged, rate-limited), so an outage
 * costs speed, never correctness.
 */
export class RedisReadCache implements ReadCache {
  readonly kind = 'redis' as const;
  /** reads in progress in this process (lookup and load), shared by concurrent readers of a key */
  private readonly reads = new Map<string, Promise<unknown>>();
  private readonly failed: (err: unknown) => void;

  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly opts: ReadCacheOptions,
    log: Logger | undefined,
  ) {
    this.failed = throttledWarn(log, 'read cache unavailable (redis); reading from the database');
  }

  static async connect(url: string, prefix: string, opts: ReadCacheOptions, log?: Logger): Promise<RedisReadCache> {
    return new RedisReadCache(await openRedis(url, 'read-cache', 'command', log), prefix, opts, log);
  }

  private valueKey = (key: string) => `${this.prefix}rc:v:${key}`;
  private generationKey = (key: string) => `${this.prefix}rc:g:${key}`;

  get<T>(key: string, load: () => Promise<Loaded<T>>): Promise<T> {
    return shared(this.reads, key, () => this.read(key, load));
  }

  private async read<T>(key: string, load: () => Promise<Loaded<T>>): Promise<T> {
    let generation: string;
    try {
      const [g, stored] = await this.redis.mget(this.generationKey(key), this.valueKey(key));
      generation = g ?? '0';
      if (stored) {
        const entry = JSON.parse(stored) as { g: string; v: T };
        if (entry.g === generation) return entry.v;
      }
    } catch (err) {
      this.failed(err);
      return (await load()).value;
    }
    // the generation read before the load: an invalidation during it moves the key on, and this value is never served
    const { value, ttlMs } = await load();
    const ttl = Math.min(ttlMs ?? Infinity, this.opts.ttlMs);
    if (ttl > 0) await this.redis.set(this.valueKey(key), JSON.stringify({ g: generation, v: value }), 'PX', Math.ceil(ttl)).catch(this.failed);
    return value;
  }

  async invalidate(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.reads.delete(key);
    if (!keys.length) return;
    const multi = this.redis.multi();
    for (const key of keys) multi.incr(this.generationKey(key)).pexpire(this.generationKey(key), GENERATION_TTL_MS).del(this.valueKey(key));
    // a Redis that is away has no value to serve either: reads load from the database until it is back
    await multi.exec().catch(this.failed);
  }

  async close(): Promise<void> {
    this.reads.clear();
    await closeRedis(this.redis);
  }
}

/** No cache (READ_CACHE_TTL_SECONDS=0): every read loads; what benchmarks measure the cache against. */
export class NoReadCache implements ReadCache {
  readonly kind = 'off' as const;
  async get<T>(_key: string, load: () => Promise<Loaded<T>>): Promise<T> {
    return (await load()).value;
  }
  async invalidate(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The one place that chooses the read cache from config: Redis with REDIS_URL, else this process's memory; none with a TTL of 0. */
export async function createReadCache(redisUrl: string | undefined, prefix: string, opts: ReadCacheOptions, log?: Logger): Promise<ReadCache> {
  if (opts.ttlMs <= 0) return new NoReadCache();
  return redisUrl ? RedisReadCache.connect(redisUrl, prefix, opts, log) : new MemoryReadCache(opts);
}
