import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBus, RedisBus, createBus, type EventBus } from '../../shared/bus.ts';

const REDIS_URL = process.env.GLINT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function nextEvent<T>(bus: EventBus, name: 'channel.created'): Promise<T> {
  return new Promise((resolve) => {
    const off = bus.subscribe(name, (p) => {
      off();
      resolve(p as T);
    });
  });
}

const t = suite('event bus');

t('createBus picks the in-process bus without REDIS_URL and Redis with it', async () => {
  const memory = await createBus(undefined);
  assert.instance(memory, MemoryBus);
  await memory.close();
  const redis = await createBus(REDIS_URL);
  assert.instance(redis, RedisBus);
  await redis.close();
});

t('MemoryBus delivers a copy of the payload to every subscriber and stops after unsubscribe', async () => {
  const bus = new MemoryBus();
  const got: unknown[] = [];
  const off = bus.subscribe('channel.deleted', (p) => got.push(p));
  const payload = { channelId: 'c1', slug: 's' };
  await bus.publish('channel.deleted', payload);
  await new Promise((r) => setTimeout(r, 5));
  off();
  await bus.publish('channel.deleted', { channelId: 'c2', slug: 's' });
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(got, [payload]);
  assert.is.not(got[0], payload, 'subscribers get a copy, as over a network');
  await bus.close();
});

t('RedisBus delivers across two processes-worth of connections on the real Redis', async () => {
  const prefix = `glint-test-${process.pid}-${Date.now()}:`;
  const a = await RedisBus.connect(REDIS_URL, prefix);
  const b = await RedisBus.connect(REDIS_URL, prefix);
  try {
    const received = nextEvent<{ slug: string }>(b, 'channel.created');
    await b.ready();
    await a.publish('channel.created', { channelId: 'x', slug: 'across', ownerId: 'u' });
    const got = await Promise.race([received, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no delivery in 2 s')), 2000))]);
    assert.is(got.slug, 'across');
  } finally {
    await a.close();
    await b.close();
  }
});

t('RedisBus deployments with different prefixes do not hear each other', async () => {
  const a = await RedisBus.connect(REDIS_URL, `glint-test-a-${process.pid}:`);
  const b = await RedisBus.connect(REDIS_URL, `glint-test-b-${process.pid}:`);
  try {
    let heard = false;
    b.subscribe('channel.created', () => (heard = true));
    await b.ready();
    await a.publish('channel.created', { channelId: 'x', slug: 'other', ownerId: 'u' });
    await new Promise((r) => setTimeout(r, 200));
    assert.is(heard, false);
  } finally {
    await a.close();
    await b.close();
  }
});

t('an API started with REDIS_URL reports the Redis bus and publishes channel events on it', async () => {
  const { startTestApi } = await import('../helpers/api.ts');
  const api = await startTestApi({ REDIS_URL });
  const listener = await RedisBus.connect(REDIS_URL);
  try {
    assert.is((await api.client().get('/readyz')).body.bus, 'redis');
    const created = nextEvent<{ slug: string }>(listener, 'channel.created');
    await listener.ready();
    const owner = await api.client().signUp('Busy');
    assert.is((await owner.post('/api/channels', { slug: 'on-the-bus', title: 'Bus' })).status, 201);
    const got = await Promise.race([created, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no event in 2 s')), 2000))]);
    assert.is(got.slug, 'on-the-bus');
  } finally {
    await listener.close();
    await api.stop();
  }
});

t.run();
