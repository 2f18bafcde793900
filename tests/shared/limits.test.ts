import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Redis } from 'ioredis';
import { ConcurrencyCap, RateLimit } from '../../shared/limits.ts';

const t = suite('limits');

t('RateLimit refuses past its points with the wait until the window ends', async () => {
  const limit = new RateLimit({ name: 't', points: 2, seconds: 60 });
  assert.ok((await limit.take('a')).ok);
  assert.ok((await limit.take('a')).ok);
  const refused = await limit.take('a');
  assert.not.ok(refused.ok);
  if (!refused.ok) assert.ok(refused.retryAfterMs > 50_000 && refused.retryAfterMs <= 60_000, String(refused.retryAfterMs));
  assert.ok((await limit.take('b')).ok, 'another key has its own budget');
});

t('RateLimit on Redis shares one budget between two limiters (two processes)', async () => {
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  const prefix = `glint-test-${process.pid}-${Date.now()}:`;
  const a = new RateLimit({ name: 'r', points: 3, seconds: 60, redis, prefix });
  const b = new RateLimit({ name: 'r', points: 3, seconds: 60, redis, prefix });
  const results = [await a.take('x'), await b.take('x'), await a.take('x'), await b.take('x')];
  assert.equal(results.map((r) => r.ok), [true, true, true, false]);
  redis.disconnect();
});

t('RateLimit falls back to its own budget when Redis does not answer', async () => {
  const redis = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
  redis.on('error', () => undefined);
  const limit = new RateLimit({ name: 'down', points: 1, seconds: 60, redis });
  assert.ok((await limit.take('k')).ok);
  assert.not.ok((await limit.take('k')).ok, 'the local budget still limits');
  redis.disconnect();
});

t('ConcurrencyCap caps per key and in total; release is idempotent', () => {
  const cap = new ConcurrencyCap({ perKey: 2, total: 3 });
  const a1 = cap.acquire('a')!;
  const a2 = cap.acquire('a')!;
  assert.is(cap.acquire('a'), undefined);
  assert.is(cap.refusal('a'), 'per-key');
  const b1 = cap.acquire('b')!;
  assert.is(cap.refusal('c'), 'total');
  a1();
  a1();
  assert.is(cap.total, 2, 'a second release of the same slot frees nothing more');
  assert.ok(cap.acquire('c'));
  a2();
  b1();
});

t.run();
