// Many SFU nodes: two SFU services (.build/sfu.mjs) and two API processes (.build/api.mjs, SFU_DISCOVERY=redis) on
// one PostgreSQL and one private redis-server (killed and started again mid-way). Both nodes register; a publisher
// in Chromium going live through API 1 lands on one node and a Chromium viewer through API 2 plays it from there; a
// node killed drops out of the registry, the node left ends the broadcast it held, new broadcasts avoid it, and
// started again it ends none of the other node's broadcasts; after Redis restarts the nodes are listed again; a WHEP
// offer to a node SIGKILLed a moment ago (still listed) is sent on to the node left; an RTMP publish on one node is
// watched on the other through the edge pull; an origin an admin drains moves its viewers to the other node (which
// pulls from it), refuses new viewers, broadcasts and RTMP, lets a dropped publisher reconnect elsewhere, ends what is
// left after its grace period and exits.
import type { Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { channel, liveSession } from '../../shared/db/index.ts';
import { channelWithKey } from '../helpers/api.ts';
import { channelPage, goLive as live, ids, newPage, nodeOf, shown, startCluster, startSfu, stopCluster, type Cluster } from '../helpers/sfu-cluster.ts';
import { ffmpegPublisher } from '../helpers/rtmp.ts';
import { killRedis, startRedis } from '../helpers/redis-server.ts';
import { publish, until, view, viewerStats } from '../helpers/webrtc.ts';

type Ctx = Cluster;
const t = suite<Ctx>('many SFU nodes behind two APIs');
/** long enough for everything the drain test checks while the drained origin still holds its broadcast */
const DRAIN_GRACE_MS = 25_000;
/** long, so that a broadcast ending when its publisher drops is the drain's doing, not the grace period's end */
const PUBLISH_GRACE_MS = 30_000;

/** Viewers of 'two-nodes' sent straight to node `heavy` until it holds more than `light`; returns their pages. */
async function outweigh(ctx: Ctx, heavy: string, light: string): Promise<Page[]> {
  const pages: Page[] = [];
  const load = async (id: string) => (await ctx.registry.list()).find((n) => n.id === id)?.load ?? 0;
  while ((await load(heavy)) <= (await load(light))) {
    assert.ok(pages.length < 6, `node ${heavy} does not take the viewers sent to it: ${JSON.stringify(await ctx.registry.list())}`);
    const page = await newPage(ctx, `http://127.0.0.1:${ctx.sfus.get(heavy)!.port}`);
    pages.push(page);
    const before = await load(heavy);
    assert.is((await view(page, 'two-nodes')).status, 201);
    await until(() => load(heavy), (n) => n > before);
  }
  return pages;
}

/** Whether one line of a service's log has every one of `parts`. */
const logged = (output: string, ...parts: string[]) => output.split('\n').some((line) => parts.every((p) => line.includes(p)));

/** Goes live on a new channel through `base`; returns the node it landed on. */
const goLive = async (ctx: Ctx, base: string, slug: string) => (await live(ctx, base, slug)).node;

t.before(async (ctx) => {
  await startCluster(ctx, { nodes: ['node-a', 'node-b'], apis: 2, sfuEnv: { SFU_DRAIN_GRACE_MS: String(DRAIN_GRACE_MS), PUBLISH_GRACE_MS: String(PUBLISH_GRACE_MS) } });
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
  await watch.close(); // no viewer left over: later tests read the nodes' loads
});

t('a WHEP offer through an API to a node SIGKILLed a moment ago goes at once to the node left; the dead node is skipped until it beats again', async (ctx) => {
  const origin = (await ctx.registry.list()).find((n) => n.channels.some((c) => c.slug === 'two-nodes'))!.id;
  const other = origin === 'node-a' ? 'node-b' : 'node-a';
  // viewers on the origin itself until it holds more than the other node: the next offer through an API goes there
  const pages = await outweigh(ctx, origin, other);
  const api = ctx.apis[1]!;
  const dying = ctx.sfus.get(other)!.child.proc;
  const exited = new Promise((resolve) => dying.once('exit', resolve));
  dying.kill('SIGKILL');
  await exited;
  assert.equal(await ids(ctx), ['node-a', 'node-b'], 'its entry has not lapsed yet: routing still lists it');
  const warnings = () => api.child.output().split('skipping it until it beats again').length - 1;
  const before = warnings();
  for (const n of [1, 2]) {
    const page = await newPage(ctx, api.base);
    pages.push(page);
    const v = await view(page, 'two-nodes');
    assert.is(v.status, 201, `offer ${n} after the kill: a session, not a 502/503 (${v.body})`);
    assert.is(nodeOf(v.location, 'two-nodes', 'whep'), origin, `offer ${n} landed on the node left\n${JSON.stringify(await ctx.registry.list())}\n${api.child.output().slice(-2000)}`);
  }
  assert.ok((await until(() => viewerStats(pages.at(-1)!), (s) => s.framesDecoded > 0, 20_000)).framesDecoded > 0, 'and plays');
  assert.is(warnings() - before, 1, `the dead node was tried once, then skipped:\n${api.child.output().slice(-2000)}`);

  // started again, it beats: no longer skipped, the least loaded node takes the next offer
  await startSfu(ctx, other);
  const back = await newPage(ctx, api.base);
  pages.push(back);
  const v = await view(back, 'two-nodes');
  assert.is(v.status, 201, v.body);
  assert.is(nodeOf(v.location, 'two-nodes', 'whep'), other, `the restarted node (beating again) is chosen again\n${JSON.stringify(await ctx.registry.list())}`);
  for (const p of pages) await p.close();
});

t('RTMP: a publish on one node makes it the origin and viewers on the other see it through the edge pull; the channel live there refuses a second RTMP publish on the other node', async (ctx) => {
  const [a, b] = ['node-a', 'node-b'];
  const rtmpPort = async (id: string) => {
    const ingest = (await (await fetch(`http://127.0.0.1:${ctx.sfus.get(id)!.port}/api/ingest`)).json()) as { rtmp: string };
    return Number(new URL(ingest.rtmp.replace(/^rtmp:/, 'http:')).port);
  };
  const key = await channelWithKey(ctx.owner, 'rtmp-on-b');
  // OBS's low-latency settings: the bridge copies H.264 (no transcode on this 2-core machine)
  const encoder = ffmpegPublisher(`rtmp://127.0.0.1:${await rtmpPort(b)}/live/${key}`, ['-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '30']);
  try {
    const listed = await until(() => ctx.registry.list(), (l) => !!l.find((n) => n.id === b)?.channels.some((c) => c.slug === 'rtmp-on-b'), 20_000);
    assert.ok(listed.find((n) => n.id === b)?.channels.some((c) => c.slug === 'rtmp-on-b'), `node B is the origin of the RTMP broadcast\n${encoder.output()}`);
    // a viewer sent to node A itself, as routing would send one when A is the less loaded
    const watch = await newPage(ctx, `http://127.0.0.1:${ctx.sfus.get(a)!.port}`);
    const v = await view(watch, 'rtmp-on-b');
    assert.is(v.status, 201, v.body);
    assert.ok((await until(() => viewerStats(watch), (s) => s.framesDecoded > 0, 20_000)).framesDecoded > 0, 'the viewer on A decodes the RTMP broadcast');
    const onA = await until(() => ctx.registry.list(), (l) => !!l.find((n) => n.id === a)?.relays?.some((r) => r.slug === 'rtmp-on-b'));
    assert.ok(onA.find((n) => n.id === a)?.relays?.some((r) => r.slug === 'rtmp-on-b'), 'A relays it from B');

    // the same key to node A's RTMP while the channel is live on B: refused before any bridge starts, and said why
    const second = ffmpegPublisher(`rtmp://127.0.0.1:${await rtmpPort(a)}/live/${key}`, ['-tune', 'zerolatency']);
    const code = await until(async () => second.proc.exitCode, (c) => c !== null, 15_000);
    assert.ok(code !== null && code !== 0, 'the second encoder was refused');
    assert.ok(logged(ctx.sfus.get(a)!.child.output(), 'RTMP publish refused', 'This channel is live on media server node-b'), `A's log says why\n${ctx.sfus.get(a)!.child.output().slice(-3000)}`);
    await watch.close();
  } finally {
    await encoder.stop();
  }
  await until(() => ctx.registry.list(), (l) => !l.some((n) => n.channels.some((c) => c.slug === 'rtmp-on-b')), 20_000);
});

t("draining the origin: its viewers move to the other node, which pulls the broadcast from it; it refuses new viewers, broadcasts and RTMP; a publisher dropping there reconnects elsewhere; the grace over, it ends what is left and exits", async (ctx) => {
  const origin = (await ctx.registry.list()).find((n) => n.channels.some((c) => c.slug === 'two-nodes'))!.id;
  const other = origin === 'node-a' ? 'node-b' : 'node-a';
  const at = (id: string) => `http://127.0.0.1:${ctx.sfus.get(id)!.port}`;
  const entry = async (id: string) => (await ctx.registry.list()).find((n) => n.id === id);
  // the channel page's player on the origin: the other node made the more loaded (viewers sent to it, pulling from the
  // origin), so the router sends the player to the origin
  await until(() => ctx.registry.list(), (l) => (l.find((n) => n.id === origin)?.load ?? 0) <= 1, 20_000); // the last test's viewers gone
  await outweigh(ctx, other, origin);
  const locations: string[] = [];
  const player = await newPage(ctx, ctx.apis[1]!.base);
  const first = await channelPage(locations)(player, 'two-nodes');
  assert.is(first.status, 201);
  assert.is(nodeOf(first.location, 'two-nodes', 'whep'), origin, 'the player watches on the origin');
  assert.ok((await until(() => shown(player), (n) => n > 10, 20_000)) > 10, 'and plays');
  // a second broadcast on the origin whose publisher will drop during the drain
  const leaverKey = await channelWithKey(ctx.owner, 'drain-leaver');
  const leaver = await newPage(ctx, at(origin));
  assert.is((await publish(leaver, { slug: 'drain-leaver', key: leaverKey })).status, 201);
  const rtmpKey = await channelWithKey(ctx.owner, 'drain-rtmp');
  const ingest = (await (await fetch(`${at(origin)}/api/ingest`)).json()) as { rtmp: string };

  const drainAsked = Date.now();
  const asked = await ctx.owner.post(`/api/admin/sfu-nodes/${origin}/drain`, {});
  assert.is(asked.status, 202, asked.text);
  await until(() => entry(origin), (n) => !!n?.draining);

  // the viewer moved: its session on the origin ended, its player's reconnect landed on the other node, which relays
  const moved = await until(async () => locations.map((l) => nodeOf(l, 'two-nodes', 'whep')), (l) => l.at(-1) === other, 20_000);
  assert.is(moved.at(-1), other, `the player reconnected to the node that stays (${JSON.stringify(moved)})`);
  console.log(`  (the drained origin's viewer had a session on the other node ${Date.now() - drainAsked} ms after the admin asked)`);
  const before = await shown(player);
  assert.ok((await until(() => shown(player), (n) => n > before + 10, 20_000)) > before + 10, 'and plays again, through the pipe from the draining origin');
  assert.ok((await entry(other))?.relays?.some((r) => r.slug === 'two-nodes'), 'the other node pulls the broadcast from the draining origin');
  assert.ok((await entry(origin))?.channels.some((c) => c.slug === 'two-nodes'), 'which keeps it: its publisher is there');
  assert.is((await entry(origin))?.load, 0, 'and holds no viewer');

  // new viewers: refused by the draining origin itself, sent to the other node by the router
  const refused = await fetch(`${at(origin)}/whep/two-nodes`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' });
  assert.is(refused.status, 503, 'a WHEP offer reaching the draining origin itself');
  const late = await newPage(ctx, ctx.apis[0]!.base);
  const lv = await view(late, 'two-nodes');
  assert.is(lv.status, 201, lv.body);
  assert.is(nodeOf(lv.location, 'two-nodes', 'whep'), other, 'a new viewer through the API goes to the node that stays');
  // new broadcasts: WHIP through the router goes to the other node; straight to the draining one, 503
  assert.is(await goLive(ctx, ctx.apis[0]!.base, 'after-the-drain'), other, 'a new broadcast goes to the node not draining');
  const direct = await fetch(`${at(origin)}/whip/after-the-drain-2`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' });
  assert.is(direct.status, 503);
  assert.ok(Number(direct.headers.get('retry-after')) > 0);
  // RTMP has no redirect: an encoder pointed at the draining node is refused, and its log says why
  const obs = ffmpegPublisher(`${ingest.rtmp.replace(/^rtmp:\/\/[^/:]+/, 'rtmp://127.0.0.1')}/${rtmpKey}`, ['-tune', 'zerolatency']);
  const code = await until(async () => obs.proc.exitCode, (c) => c !== null, 15_000);
  assert.ok(code !== null && code !== 0, 'the RTMP publish was refused');
  assert.ok(logged(ctx.sfus.get(origin)!.child.output(), 'RTMP publish refused', `Media server ${origin} is draining`), `the log says why\n${ctx.sfus.get(origin)!.child.output().slice(-3000)}`);

  // the publisher of the second broadcast drops (its tab closes): the broadcast ends now, not after PUBLISH_GRACE_MS,
  // and its reconnect opens it on the node that stays
  await leaver.close();
  const ended = await until(
    async () => (await ctx.database.db.select({ reason: liveSession.endReason }).from(liveSession).innerJoin(channel, eq(channel.id, liveSession.channelId)).where(eq(channel.slug, 'drain-leaver')))[0],
    (r) => !!r?.reason,
    PUBLISH_GRACE_MS / 2,
  );
  assert.is(ended?.reason, 'media server draining', 'ended by the drain when its publisher dropped');
  const again = await newPage(ctx, ctx.apis[1]!.base);
  const p = await publish(again, { slug: 'drain-leaver', key: leaverKey });
  assert.is(p.status, 201, p.body);
  assert.is(nodeOf(p.location, 'drain-leaver'), other, "the publisher's reconnect landed on the node that stays");

  // the grace over: the broadcast left ends, and the node exits
  const proc = ctx.sfus.get(origin)!.child.proc;
  await until(async () => proc.exitCode, (c) => c !== null, DRAIN_GRACE_MS + 15_000);
  console.log(`  (the drained node exited ${Date.now() - drainAsked} ms after the admin asked; grace ${DRAIN_GRACE_MS} ms)`);
  assert.is(proc.exitCode, 0, `the drained node exited cleanly\n${ctx.sfus.get(origin)!.child.output()}`);
  assert.equal(await ids(ctx), [other], 'and left the registry');
  const [drained] = await ctx.database.db
    .select({ reason: liveSession.endReason })
    .from(liveSession)
    .innerJoin(channel, eq(channel.id, liveSession.channelId))
    .where(eq(channel.slug, 'two-nodes'));
  assert.is(drained?.reason, 'media server draining', 'the broadcast whose publisher stayed was ended at the end of the grace');
  assert.ok(!(await entry(other))?.relays?.some((r) => r.slug === 'two-nodes'), 'and its relay on the other node closed');
});

t.run();
