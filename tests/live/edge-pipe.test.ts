// The edge pull's pipe in one process (sfu/cluster/EdgePull.ts): an origin room publishing plain RTP, two EdgePulls on
// one in-memory bus, one answering as the origin node and one pulling as an edge. The relay gets every track, is
// shared by concurrent pulls, and every way it ends (its close, twice; channel.offline; the origin gone from the
// registry; the origin's broadcast ending) leaves no pipe, producer or consumer on either side.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createBus, type EventBus } from '../../shared/bus.ts';
import { createLogger } from '../../shared/logger.ts';
import type { SfuNodeState } from '../../shared/sfu-nodes.ts';
import { EdgePull } from '../../sfu/cluster/EdgePull.ts';
import { Room, type RoomSettings } from '../../sfu/Room.ts';
import { WorkerPool } from '../../sfu/WorkerPool.ts';
import { until } from '../helpers/webrtc.ts';

const log = createLogger('silent');
const SETTINGS: RoomSettings = { listenIp: '127.0.0.1', publishGraceMs: 0, viewersPerWorker: 10, maxNumberings: 1 };
const SLUG = 'edge-pipe';
const TRACKS = [
  { kind: 'audio' as const, codec: { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }, ssrc: 1111 },
  { kind: 'video' as const, codec: { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }, ssrc: 2222 },
];

type Ctx = { bus: EventBus; pool: WorkerPool; origin: Room; alone: Dump; atOrigin: EdgePull; atEdge: EdgePull; registry: SfuNodeState[]; changed: string[] };
type Dump = { transports: number; producers: number; consumers: number };
const t = suite<Ctx>('an edge pipe between two nodes');

const node = (id: string, channels: { id: string; slug: string }[]): SfuNodeState => ({ id, url: `http://${id}`, capacity: 10, load: 0, channels, draining: false });

async function liveOrigin(pool: WorkerPool, channelId: string): Promise<Room> {
  const room = new Room(channelId, SLUG, await pool.createRouter(), pool, SETTINGS, log);
  await room.publishPlain(TRACKS);
  return room;
}

t.before(async (ctx) => {
  ctx.bus = await createBus(undefined);
  ctx.pool = await WorkerPool.create({ count: 2, port: 0, minPort: 46_000, maxPort: 46_999, listenIp: '127.0.0.1', announcedIp: undefined, log });
  ctx.registry = [node('a', [{ id: 'ch-1', slug: SLUG }]), node('b', [])];
  const common = { bus: ctx.bus, log, listenIp: '127.0.0.1', announcedIp: undefined, nodes: async () => ctx.registry };
  ctx.changed = [];
  ctx.atOrigin = new EdgePull({ ...common, nodeId: 'a', remoteViewersChanged: (id) => ctx.changed.push(id), newRoom: () => Promise.reject(new Error('the origin relays nothing')), originRoom: (id) => (id === ctx.origin.channelId ? ctx.origin : undefined) });
  ctx.atEdge = new EdgePull({
    ...common, nodeId: 'b',
    newRoom: async (id, slug) => new Room(id, slug, await ctx.pool.createRouter(), ctx.pool, SETTINGS, log),
    originRoom: () => undefined,
  });
});
// a fresh broadcast for each test: one whose plain transports hear nothing for 8 s ends (Room.ts)
t.before.each(async (ctx) => {
  ctx.origin = await liveOrigin(ctx.pool, 'ch-1');
  ctx.alone = await ctx.origin.dump();
});
t.after.each((ctx) => ctx.origin.close());
t.after(async (ctx) => {
  ctx.atEdge?.close();
  ctx.atOrigin?.close();
  ctx.pool?.close();
  await ctx.bus?.close();
});

/** What the origin holds beyond `alone`: the pipe (one transport) with a consumer per track. */
const withPipe = (alone: Dump): Dump => ({ transports: alone.transports + 1, producers: alone.producers, consumers: alone.consumers + 2 });
/** The origin's dump once it is back to `alone` (the pipe's end closes a moment after the edge's message). */
const settled = (ctx: Ctx) => until(() => ctx.origin.dump(), (d) => d.transports === ctx.alone.transports);

t('relay() pipes every track into one relay room, shared by concurrent pulls', async (ctx) => {
  const [r1, r2] = await Promise.all([ctx.atEdge.relay('ch-1', SLUG), ctx.atEdge.relay('ch-1', SLUG)]);
  assert.ok(r1, 'a relay room');
  assert.is(r1, r2, 'one pipe for both');
  assert.equal(r1!.source?.producers.map((p) => p.kind), ['audio', 'video']);
  assert.equal(await r1!.dump(), { transports: 1, producers: 2, consumers: 0 }, 'the edge: its pipe and a producer per track');
  assert.equal(await ctx.origin.dump(), withPipe(ctx.alone), 'the origin: one pipe consuming every track');
  assert.equal(ctx.atEdge.rooms(), [r1]);

  r1!.close();
  r1!.close();
  assert.equal(await r1!.dump(), { transports: 0, producers: 0, consumers: 0 });
  assert.equal(await settled(ctx), ctx.alone, "its close released the origin's end");
  assert.equal(ctx.atEdge.rooms(), []);
});

t('channel.offline, and the origin gone from the registry, close the relay and the origin end', async (ctx) => {
  const r = (await ctx.atEdge.relay('ch-1', SLUG))!;
  await ctx.bus.publish('channel.offline', { channelId: 'ch-1', slug: SLUG, sessionId: 's', reason: 'ended', peakViewers: 0 });
  assert.ok(r.isClosed, 'closed on channel.offline');
  assert.equal(await settled(ctx), ctx.alone);

  const again = (await ctx.atEdge.relay('ch-1', SLUG))!;
  assert.ok(again && again !== r && !again.isClosed, 'a new pull makes a new relay');
  ctx.atEdge.look([node('a', []), node('b', [])]);
  assert.is(again.endReason, 'origin node gone', 'the origin lists the channel no more');
  // and the origin closes its end to an edge that is gone from the registry, released or not
  const third = (await ctx.atEdge.relay('ch-1', SLUG))!;
  ctx.atOrigin.look([node('a', [{ id: 'ch-1', slug: SLUG }])]);
  assert.equal(await ctx.origin.dump(), ctx.alone, 'the pipe to a lapsed edge closed');
  third.close();
});

t('a viewer admission refuses opens no pipe', async (ctx) => {
  const err = await ctx.atEdge.relay('ch-1', SLUG, () => Promise.reject(new Error('subscribers only'))).catch((e: Error) => e);
  assert.instance(err, Error);
  assert.is((err as Error).message, 'subscribers only', "the admission's refusal is the caller's");
  assert.equal(ctx.atEdge.rooms(), []);
  assert.equal(await ctx.origin.dump(), ctx.alone, 'nothing asked of the origin');
});

t("the edge's viewers count in the origin's, until its pipe closes", async (ctx) => {
  const piped = new Promise<string>((resolve) => {
    const off = ctx.bus.subscribe('edge.piped', ({ pipeId }) => (off(), resolve(pipeId)));
  });
  const r = (await ctx.atEdge.relay('ch-1', SLUG))!;
  const pipeId = await piped;
  ctx.changed.length = 0;
  await ctx.bus.publish('edge.viewers', { pipeId, viewers: 3 });
  await until(async () => ctx.atOrigin.remoteViewers('ch-1'), (n) => n === 3);
  assert.is(ctx.atOrigin.remoteViewers('ch-1'), 3);
  assert.equal(ctx.changed, ['ch-1'], 'the origin heard of it');
  r.close();
  await until(async () => ctx.atOrigin.remoteViewers('ch-1'), (n) => n === 0);
  assert.is(ctx.atOrigin.remoteViewers('ch-1'), 0, 'a released pipe counts no one');
  assert.equal(ctx.changed, ['ch-1', 'ch-1']);
});

t('a channel no other node holds is not pulled', async (ctx) => {
  assert.is(await ctx.atEdge.relay('ch-2', 'elsewhere'), undefined);
  assert.equal(ctx.atEdge.rooms(), []);
});

t("the origin's broadcast ending closes the relay (edge.unpiped)", async (ctx) => {
  const r = (await ctx.atEdge.relay('ch-1', SLUG))!;
  ctx.origin.close('ended');
  await until(async () => r.isClosed, (c) => c);
  assert.is(r.endReason, 'origin stopped piping');
  assert.equal(await r.dump(), { transports: 0, producers: 0, consumers: 0 });
});

t.run();
