// The SFU node registry in Redis (shared/sfu-nodes.ts), on a private redis-server: a node is listed while it beats,
// gone at once after a clean stop, lapses by itself when it stops beating (killed), and is listed again after Redis
// restarts empty. Which node routing picks (least loaded, not draining; the channel's origin).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { ENTRY_TTL_MS, HEARTBEAT_MS, leastLoaded, originOf, redisNodes, registerNode, type SfuNodes, type SfuNodeState } from '../../shared/sfu-nodes.ts';
import { freePort } from '../helpers/api.ts';
import { killRedis, startRedis } from '../helpers/redis-server.ts';
import { until } from '../helpers/webrtc.ts';

type Ctx = { port: number; url: string; redis?: ChildProcess; nodes?: SfuNodes };
const t = suite<Ctx>('SFU node registry');

const node = (id: string, over: Partial<SfuNodeState> = {}): SfuNodeState => ({ id, url: `http://${id}:8080`, capacity: 100, load: 0, channels: [], draining: false, ...over });
const ids = async (nodes: SfuNodes) => (await nodes.list()).map((n) => n.id).sort();

t.before(async (ctx) => {
  ctx.port = await freePort();
  ctx.url = `redis://127.0.0.1:${ctx.port}`;
  ctx.redis = await startRedis(ctx.port);
  ctx.nodes = await redisNodes(ctx.url, 'nodes-test:', undefined);
});
t.after(async (ctx) => {
  await ctx.nodes?.close();
  if (ctx.redis) await killRedis(ctx.redis);
});

t('a registered node is listed with its state; a clean stop removes it at once', async (ctx) => {
  let load = 3;
  const beat = await registerNode(ctx.url, 'nodes-test:', () => node('a', { load, channels: [{ id: 'c1', slug: 'one' }] }), undefined);
  const other = await registerNode(ctx.url, 'other-prefix:', () => node('x'), undefined);
  try {
    const [{ beatAt, ...a }] = (await ctx.nodes!.list()) as [SfuNodeState];
    assert.equal(a, node('a', { load: 3, channels: [{ id: 'c1', slug: 'one' }] }), 'listed under its prefix only');
    assert.ok(Math.abs(Date.now() - beatAt!) < 5000, 'with the time of its beat');
    load = 7;
    await beat.beat();
    assert.is((await ctx.nodes!.list())[0]!.load, 7, 'a beat writes the state now');
  } finally {
    await beat.stop();
    await other.stop();
  }
  assert.equal(await ids(ctx.nodes!), [], 'gone without waiting for the TTL');
});

t('a node that stops beating (killed) lapses after a few missed beats; the others stay', async (ctx) => {
  const alive = await registerNode(ctx.url, 'nodes-test:', () => node('alive'), undefined);
  const dying = await registerNode(ctx.url, 'nodes-test:', () => node('dying'), undefined);
  try {
    assert.equal(await ids(ctx.nodes!), ['alive', 'dying']);
    // a crash: its beats stop and nothing deletes its entry (a fresh registration with the TTL, never renewed)
    await dying.stop();
    const { Redis } = await import('ioredis');
    const raw = new Redis(ctx.url);
    await raw.multi().set('nodes-test:sfu:node:dying', JSON.stringify(node('dying')), 'PX', ENTRY_TTL_MS).sadd('nodes-test:sfu:node-ids', 'dying').exec();
    raw.disconnect();
    assert.equal(await ids(ctx.nodes!), ['alive', 'dying'], 'still listed within its TTL');
    const left = await until(() => ids(ctx.nodes!), (l) => l.length === 1, ENTRY_TTL_MS + 3000);
    assert.equal(left, ['alive'], 'lapsed, while the beating node stays');
  } finally {
    await alive.stop();
  }
});

t('after Redis restarts empty, a running node is listed again at its next beat', async (ctx) => {
  const beat = await registerNode(ctx.url, 'nodes-test:', () => node('survivor'), undefined);
  try {
    await killRedis(ctx.redis!);
    ctx.redis = await startRedis(ctx.port);
    const back = await until(() => ids(ctx.nodes!).catch(() => []), (l) => l.length === 1, HEARTBEAT_MS * 5);
    assert.equal(back, ['survivor']);
  } finally {
    await beat.stop();
  }
});

t('routing: new broadcasts go to the node with the most room left, never to a draining one; viewers to the origin', () => {
  const nodes = [node('busy', { capacity: 100, load: 90 }), node('big', { capacity: 1000, load: 500 }), node('idle', { capacity: 10, load: 0, draining: true, channels: [{ id: 'c', slug: 'show' }] })];
  assert.is(leastLoaded(nodes)?.id, 'big', 'half free beats a tenth free; the idle one is draining');
  assert.is(leastLoaded([nodes[2]!]), undefined, 'only draining nodes: none');
  assert.is(originOf(nodes, 'show')?.id, 'idle', 'the origin even while it drains (its viewers have nowhere else)');
  assert.is(originOf(nodes, 'other'), undefined);
});

t.run();
