// @runtime-matrix
// shared/read-cache.ts on its own, in memory and in Redis: concurrent misses of a key share one load, a load that an
// invalidation overtook never becomes the cached value, a load's own shorter life holds, and memory keeps its bound.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createReadCache, MemoryReadCache, type ReadCache } from '../../shared/read-cache.ts';

const REDIS_URL = process.env.GLINT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const runtime = 'Deno' in globalThis ? 'deno' : 'node';

/** A load whose answer the test releases, counting how often it ran. */
function gate<T>(value: T) {
  let release!: () => void;
  const opened = new Promise<void>((r) => (release = r));
  const calls = { n: 0 };
  const load = async () => {
    calls.n++;
    await opened;
    return { value };
  };
  return { load, release, calls };
}

for (const kind of ['memory', 'redis'] as const) {
  const t = suite<{ cache: ReadCache }>(`read cache: ${kind} (${runtime})`);
  t.before(async (ctx) => {
    const prefix = `glint-test-rcu-${Math.random().toString(36).slice(2, 8)}:`;
    ctx.cache = await createReadCache(kind === 'redis' ? REDIS_URL : undefined, prefix, { ttlMs: 60_000, maxEntries: 100 });
    assert.is(ctx.cache.kind, kind);
  });
  t.after((ctx) => ctx.cache.close());

  t('concurrent misses of one key share one load; the next read is a hit', async ({ cache }) => {
    const g = gate({ n: 1 });
    const reads = Array.from({ length: 20 }, () => cache.get('shared', g.load));
    g.release();
    for (const v of await Promise.all(reads)) assert.equal(v, { n: 1 });
    assert.is(g.calls.n, 1);
    assert.equal(await cache.get('shared', async () => ({ value: { n: 2 } })), { n: 1 });
  });

  t('a load that began before an invalidation is not kept: the next read loads again', async ({ cache }) => {
    const before = gate('before the write');
    const early = cache.get('raced', before.load);
    await new Promise((r) => setTimeout(r, 20)); // the lookup is made and the load has begun
    await cache.invalidate(['raced']);
    before.release();
    assert.is(await early, 'before the write', 'a read concurrent with the write may answer what it read');
    assert.is(await cache.get('raced', async () => ({ value: 'after the write' })), 'after the write');
    assert.is(await cache.get('raced', async () => ({ value: 'not loaded again' })), 'after the write');
  });

  t('invalidate() drops a cached value', async ({ cache }) => {
    await cache.get('dropped', async () => ({ value: 1 }));
    await cache.invalidate(['dropped', 'never-read']);
    assert.is(await cache.get('dropped', async () => ({ value: 2 })), 2);
  });

  t("a load's own shorter life holds (a premiere due before the TTL); 0 keeps nothing", async ({ cache }) => {
    await cache.get('short', async () => ({ value: 'soon stale', ttlMs: 30 }));
    await new Promise((r) => setTimeout(r, 80));
    assert.is(await cache.get('short', async () => ({ value: 'fresh' })), 'fresh');
    await cache.get('none', async () => ({ value: 'kept?', ttlMs: 0 }));
    assert.is(await cache.get('none', async () => ({ value: 'loaded again' })), 'loaded again');
  });

  t('null is a value (an unknown slug) and a failed load is not kept', async ({ cache }) => {
    assert.is(await cache.get('nothing', async () => ({ value: null })), null);
    assert.is(await cache.get('nothing', async () => ({ value: 'something' })), null);
    await cache.get('fails', async () => Promise.reject(new Error('database away'))).then(
      () => assert.unreachable(),
      (err: Error) => assert.is(err.message, 'database away'),
    );
    assert.is(await cache.get('fails', async () => ({ value: 'back' })), 'back');
  });
  t.run();
}

const m = suite(`read cache: memory bound (${runtime})`);
m('keeps at most maxEntries, dropping the least recently read', async () => {
  const cache = new MemoryReadCache({ ttlMs: 60_000, maxEntries: 3 });
  for (const k of ['a', 'b', 'c']) await cache.get(k, async () => ({ value: k }));
  await cache.get('a', async () => ({ value: 'reloaded' })); // read: now the most recent
  await cache.get('d', async () => ({ value: 'd' }));
  assert.is(cache.size, 3);
  assert.is(await cache.get('a', async () => ({ value: 'reloaded' })), 'a', 'a was read recently: kept');
  assert.is(await cache.get('b', async () => ({ value: 'reloaded' })), 'reloaded', 'b was the least recently read: dropped');
});
m.run();
