// Many SFU nodes: two SFU services (.build/sfu.mjs) and two API processes (.build/api.mjs, SFU_DISCOVERY=redis) on
// one PostgreSQL and one private redis-server (killed and started again mid-way). Both nodes register; a publisher
// in Chromium going live through API 1 lands on one node and a Chromium viewer through API 2 plays it from there; a
// node killed drops out of the registry, the node left ends the broadcast it held, new broadcasts avoid it, and
// started again it ends none of the other node's broadcasts; after Redis restarts the nodes are listed again; a node an admin drains takes no new broadcast,
// ends its own after its grace period and exits.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { channel, liveSession } from '../../shared/db/index.ts';
import { channelWithKey } from '../helpers/api.ts';
import { goLive as live, ids, newPage, nodeOf, startCluster, startSfu, stopCluster, type Cluster } from '../helpers/sfu-cluster.ts';
import { killRedis, startRedis } from '../helpers/redis-server.ts';
import { publish, until, view, viewerStats } from '../helpers/webrtc.ts';

type Ctx = Cluster;
const t = suite<Ctx>('many SFU nodes behind two APIs');
const DRAIN_GRACE_MS = 3000;

/** Goes live on a new channel through `base`; returns the node it landed on. */
const goLive = async (ctx: Ctx, base: string, slug: string) => (await live(ctx, base, slug)).node;

t.before(async (ctx) => {
  await startCluster(ctx, { nodes: ['node-a', 'node-b'], apis: 2, sfuEnv: { SFU_DRAIN_GRACE_MS: String(DRAIN_GRACE_MS) } });
});
t.after(stopCluster);

t('both nodes register; a broadcast through API 1 lands on a node, and a viewer through API 2 plays it from there', async (ctx) => {
  assert.equal(await until(() => ids(ctx), (l) => l.length === 2), ['node-a', 'node-b']);
  const [api1, api2] = ctx.apis;
  const origin = await goLive(ctx, api1!.base, 'two-nodes');
  assert.ok(origin, 'the WHIP Location names the node (/whip/<channel>/<node>.<token>)');
  const listed = await until(() => ctx.registry.list(), (l) => l.some((n) => n.channels.some((c) => c.slug === 'two-nodes')));
  assert.equal(listed.filter((n) => n.channels.some((c) => c.slug === 'two-nodes')).map((n) => n.id), [origin], 'the node it landed on is its origin');

  const watch = await newPage(ctx, api2!.base);
  const v = await view(watch, 'two-nodes');
  assert.is(v.status, 201, v.body);
  assert.is(nodeOf(v.location, 'two-nodes', 'whep'), origin, 'the viewer was sent to the origin');
  const stats = await until(() => viewerStats(watch), (s) => s.framesDecoded > 0, 20_000);
  assert.ok(stats.framesDecoded > 0, `video plays through API 2 (${JSON.stringify(stats)})`);
  const loads = await until(() => ctx.registry.list(), (l) => l.find((n) => n.id === origin)?.load === 1);
  assert.is(loads.find((n) => n.id === origin)?.load, 1, "the origin's load counts the viewer");

  // printed, not asserted (docs/benchmarks.md): what routing adds to a signalling request, against the node itself
  const offline = async (base: string) => {
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      await (await fetch(`${base}/whep/nobody-live-here`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' })).text();
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[20]!.toFixed(2);
  };
  const direct = await offline(`http://127.0.0.1:${ctx.sfus.get(origin!)!.port}`);
  const routed = await offline(api2!.base);
  console.log(`  (median WHEP request for an offline channel: ${direct} ms to a node directly, ${routed} ms routed through an API)`);

  // the session's resource path reaches its node through either API: API 1 ends what API 2 handed out
  const ended = await fetch(api1!.base + v.location, { method: 'DELETE' });
  assert.is(ended.status, 200);
  const again = await fetch(api1!.base + v.location, { method: 'DELETE' });
  assert.is(again.status, 404, 'gone once ended');
});

t('a node killed drops out of the registry, the node left ends its broadcast, new broadcasts avoid it; started again, it ends no broadcast of the other', async (ctx) => {
  const origin = (await ctx.registry.list()).find((n) => n.channels.some((c) => c.slug === 'two-nodes'))!.id;
  const other = origin === 'node-a' ? 'node-b' : 'node-a';
  // a broadcast sent straight to that node (as a publisher behind another router would be)
  const key = await channelWithKey(ctx.owner, 'on-the-dying-node');
  const direct = await newPage(ctx, `http://127.0.0.1:${ctx.sfus.get(other)!.port}`);
  assert.is((await publish(direct, { slug: 'on-the-dying-node', key })).status, 201);
  const killed = Date.now();
  ctx.sfus.get(other)!.child.proc.kill('SIGKILL');
  assert.equal(await until(() => ids(ctx), (l) => l.length === 1, 15_000), [origin], 'its entry lapsed');
  console.log(`  (a killed node left the registry ${Date.now() - killed} ms after SIGKILL)`);
  assert.is(await goLive(ctx, ctx.apis[1]!.base, 'while-one-is-down'), origin, 'the node left takes the new broadcast');

  // nothing ended its broadcast: the node left does, once the registry has shown it held by nobody for a while
  const orphan = await until(
    async () => (await ctx.database.db.select({ reason: liveSession.endReason }).from(liveSession).innerJoin(channel, eq(channel.id, liveSession.channelId)).where(eq(channel.slug, 'on-the-dying-node')))[0],
    (r) => !!r?.reason,
    30_000,
  );
  assert.is(orphan?.reason, 'media server gone', "the dead node's broadcast was ended by the node left");

  await startSfu(ctx, other);
  assert.equal(await until(() => ids(ctx), (l) => l.length === 2), ['node-a', 'node-b'], 'back in the registry');
  const sessions = await ctx.database.db.select({ slug: channel.slug, endedAt: liveSession.endedAt, reason: liveSession.endReason }).from(liveSession).innerJoin(channel, eq(channel.id, liveSession.channelId));
  assert.equal(sessions.filter((r) => !r.endedAt).map((r) => r.slug).sort(), ['two-nodes', 'while-one-is-down'], `the restarted node ended none of the other node's live sessions: ${JSON.stringify(sessions)}\n${ctx.sfus.get(other)!.child.output()}`);
});

t('after Redis restarts empty, both nodes are listed again and routing goes on', async (ctx) => {
  await killRedis(ctx.redis);
  ctx.redis = await startRedis(ctx.redisPort);
  const back = Date.now();
  assert.equal(await until(() => ids(ctx), (l) => l.length === 2, 15_000), ['node-a', 'node-b']);
  console.log(`  (both nodes listed again ${Date.now() - back} ms after Redis answered)`);
  const watch = await newPage(ctx, ctx.apis[0]!.base);
  await until(() => ctx.registry.list(), (l) => l.some((n) => n.channels.some((c) => c.slug === 'two-nodes')));
  const v = await view(watch, 'two-nodes');
  assert.is(v.status, 201, v.body);
});

t('a node an admin drains takes no new broadcast, ends its own after the grace period and exits', async (ctx) => {
  const origin = (await ctx.registry.list()).find((n) => n.channels.some((c) => c.slug === 'two-nodes'))!.id;
  const other = origin === 'node-a' ? 'node-b' : 'node-a';
  const drainAsked = Date.now();
  const asked = await ctx.owner.post(`/api/admin/sfu-nodes/${origin}/drain`, {});
  assert.is(asked.status, 202, asked.text);
  await until(() => ctx.registry.list(), (l) => !!l.find((n) => n.id === origin)?.draining);
  assert.is(await goLive(ctx, ctx.apis[0]!.base, 'after-the-drain'), other, 'a new broadcast goes to the node not draining');
  // a WHIP offer sent to the draining node itself (a router that has not heard yet) is refused with 503
  const direct = await fetch(`http://127.0.0.1:${ctx.sfus.get(origin)!.port}/whip/after-the-drain-2`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' });
  assert.is(direct.status, 503);
  assert.ok(Number(direct.headers.get('retry-after')) > 0);

  const proc = ctx.sfus.get(origin)!.child.proc;
  await until(async () => proc.exitCode, (code) => code !== null, DRAIN_GRACE_MS + 15_000);
  console.log(`  (the drained node exited ${Date.now() - drainAsked} ms after the admin asked; grace ${DRAIN_GRACE_MS} ms)`);
  assert.is(proc.exitCode, 0, `the drained node exited cleanly\n${ctx.sfus.get(origin)!.child.output()}`);
  assert.equal(await ids(ctx), [other], 'and left the registry');
  const [drained] = await ctx.database.db
    .select({ reason: liveSession.endReason })
    .from(liveSession)
    .innerJoin(channel, eq(channel.id, liveSession.channelId))
    .where(eq(channel.slug, 'two-nodes'));
  assert.is(drained?.reason, 'media server draining', 'its broadcast was ended by the drain');
});

t.run();
