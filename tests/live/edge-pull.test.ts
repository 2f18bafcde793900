// Edge pull across SFU nodes (sfu/cluster/EdgePull.ts): two SFU services and two APIs (SFU_DISCOVERY=redis) on one
// PostgreSQL and a private redis-server. A broadcast goes live on one node; a viewer the router sends to the other node
// (the least loaded) plays it through a pipe from the origin: that node holds a relay and no publisher, and the
// origin's load does not count the viewer. The broadcast ending closes the relay. The edge node killed, the channel
// page's player watching there reconnects and lands on the origin, and a fresh offer lands there and plays.
import type { Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { channel, liveSession } from '../../shared/db/index.ts';
import type { SfuNodeState } from '../../shared/sfu-nodes.ts';
import { channelPage, goLive, ids, newPage, nodeOf, shown, startCluster, stopCluster, type Cluster, type Watcher } from '../helpers/sfu-cluster.ts';
import { unpublish, until, view, viewerStats } from '../helpers/webrtc.ts';

const t = suite<Cluster>('edge pull: a node without the broadcast gets it from the origin over a pipe');

t.before(async (ctx) => {
  await startCluster(ctx, { nodes: ['node-a', 'node-b'], apis: 2 });
});
t.after(stopCluster);

const entry = async (ctx: Cluster, id: string): Promise<SfuNodeState | undefined> => (await ctx.registry.list()).find((n) => n.id === id);
/** The viewer count recorded on the channel's live session (what the channel page shows). */
const sessionViewers = async (ctx: Cluster, slug: string) =>
  (await ctx.database.db.select({ viewers: liveSession.viewers }).from(liveSession).innerJoin(channel, eq(channel.id, liveSession.channelId)).where(eq(channel.slug, slug)))[0]?.viewers;
const decoding = async (page: Page) => (await until(() => viewerStats(page), (s) => s.framesDecoded > 0, 20_000)).framesDecoded;

/**
 * Live on a new channel with one viewer on its origin (the router prefers it among equally loaded nodes) and one the
 * router then sends to the other node (watching with `watch`); returns both nodes and the pages.
 */
async function liveWithEdgeViewer(ctx: Cluster, slug: string, watch: Watcher = view) {
  assert.equal(await until(() => ids(ctx), (l) => l.length === 2), ['node-a', 'node-b']);
  const [api1, api2] = ctx.apis;
  const live = await goLive(ctx, api1!.base, slug);
  const origin = live.node!;
  const edge = origin === 'node-a' ? 'node-b' : 'node-a';
  await until(() => entry(ctx, origin), (n) => !!n?.channels.some((c) => c.slug === slug));
  const near = await newPage(ctx, api2!.base);
  const v1 = await view(near, slug);
  assert.is(v1.status, 201, v1.body);
  assert.is(nodeOf(v1.location, slug, 'whep'), origin, 'with both nodes equally loaded the viewer goes to the origin');
  assert.is((await until(() => entry(ctx, origin), (n) => n?.load === 1))?.load, 1);
  const far = await newPage(ctx, api2!.base);
  const v2 = await watch(far, slug);
  assert.is(v2.status, 201, v2.body);
  assert.is(nodeOf(v2.location, slug, 'whep'), edge, 'the next viewer goes to the less loaded node, which does not hold the broadcast');
  return { origin, edge, publisher: live.page, near, far };
}

t('a viewer on the node without the broadcast plays it through a pipe from the origin, which does not count it', async (ctx) => {
  const { origin, edge, publisher, far } = await liveWithEdgeViewer(ctx, 'edge-show');
  assert.ok((await decoding(far)) > 0, 'the edge viewer decodes video');
  const e = await until(() => entry(ctx, edge), (n) => n?.load === 1 && !!n.relays?.length);
  assert.equal(e?.relays?.map((r) => r.slug), ['edge-show'], 'the edge relays the broadcast');
  assert.equal(e?.channels, [], 'and holds no publisher');
  assert.is(e?.load, 1, "the edge's load counts its viewer");
  assert.is((await entry(ctx, origin))?.load, 1, "the origin's load is its own viewer only (the pipe is no viewer)");
  assert.is(await until(() => sessionViewers(ctx, 'edge-show'), (n) => n === 2), 2, "the channel's viewer count is the origin's and the edge's");

  // the broadcast ending closes the edge's relay
  assert.is(await unpublish(publisher), 200);
  const after = await until(() => entry(ctx, edge), (n) => !n?.relays?.length && n?.load === 0);
  assert.equal(after?.relays, [], 'the relay closed with the broadcast');
  assert.is(after?.load, 0);
});

t("the edge node killed: the channel page's player reconnects to the origin, and a fresh offer lands there and plays", async (ctx) => {
  const locations: string[] = [];
  const { origin, edge, far } = await liveWithEdgeViewer(ctx, 'edge-show-2', channelPage(locations));
  assert.ok((await until(() => shown(far), (n) => n > 10, 20_000)) > 10, 'the channel page plays from the edge');
  ctx.sfus.get(edge)!.child.proc.kill('SIGKILL');
  assert.equal(await until(() => ids(ctx), (l) => l.length === 1, 15_000), [origin], "the edge's entry lapsed");
  const moved = await until(async () => locations.map((l) => nodeOf(l, 'edge-show-2', 'whep')), (l) => l.at(-1) === origin, 40_000);
  assert.is(moved.at(-1), origin, `the player reconnected to the origin (${JSON.stringify(moved)})`);
  const before = await shown(far);
  assert.ok((await until(() => shown(far), (n) => n > before + 10, 20_000)) > before + 10, 'and plays again');
  const again = await newPage(ctx, ctx.apis[0]!.base);
  const v = await view(again, 'edge-show-2');
  assert.is(v.status, 201, v.body);
  assert.is(nodeOf(v.location, 'edge-show-2', 'whep'), origin);
  assert.ok((await decoding(again)) > 0, 'and plays from the origin');
});

t.run();
