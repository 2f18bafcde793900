// A killed SFU node ends none of its broadcasts; the nodes left end them (sfu/cluster/orphans.ts): a session held by
// no registered node on two looks ENTRY_TTL_MS apart is ended with channel.offline, once; one a node holds, or one
// unheld on a single look only (Redis restarted empty, a broadcast that just started), is left alone.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq, isNull } from 'drizzle-orm';
import { createBus } from '../../shared/bus.ts';
import { channel, liveSession, user, type Database } from '../../shared/db/index.ts';
import { ENTRY_TTL_MS, type SfuNodeState } from '../../shared/sfu-nodes.ts';
import { NODE_GONE, OrphanSweep } from '../../sfu/cluster/orphans.ts';
import { freshDatabase } from '../helpers/api.ts';

type Ctx = { database: Database; drop(): Promise<void>; channels: Record<string, string> };
const t = suite<Ctx>("a dead node's broadcasts");
const node = (id: string, channels: { id: string; slug: string }[]): SfuNodeState => ({ id, url: `http://${id}`, capacity: 10, load: 0, channels, draining: false });

t.before(async (ctx) => {
  const db = await freshDatabase();
  ctx.database = db.database;
  ctx.drop = db.drop;
  const d = db.database.db;
  await d.insert(user).values({ id: 'u1', name: 'Owner', email: 'owner@example.test' });
  ctx.channels = {};
  const long = new Date(Date.now() - 60_000);
  for (const slug of ['on-dead-node', 'on-live-node']) {
    const [ch] = await d.insert(channel).values({ ownerId: 'u1', slug, title: slug }).returning({ id: channel.id });
    ctx.channels[slug] = ch!.id;
    await d.insert(liveSession).values({ id: crypto.randomUUID(), channelId: ch!.id, source: 'whip', startedAt: long });
  }
});
t.after(async (ctx) => ctx.drop?.());

t('ends, on the second look, only the session no node holds; announces it once', async ({ database, channels }) => {
  const bus = await createBus(undefined);
  const offline: string[] = [];
  bus.subscribe('channel.offline', (e) => offline.push(`${e.slug} ${e.reason}`));
  const sweeps = [new OrphanSweep(database.db, bus), new OrphanSweep(database.db, bus)];
  const alive = [node('alive', [{ id: channels['on-live-node']!, slug: 'on-live-node' }])];
  const now = Date.now();
  // Redis just restarted: nobody listed — a single look ends nothing
  for (const s of sweeps) assert.equal(await s.look([], now), []);
  for (const s of sweeps) assert.equal(await s.look(alive, now + 1000), [], 'too soon for a second look');
  const ended = await Promise.all(sweeps.map((s) => s.look(alive, now + ENTRY_TTL_MS)));
  assert.is(ended.flat().length, 1, 'two nodes sweeping at once end it once');
  const open = await database.db.select({ channelId: liveSession.channelId }).from(liveSession).where(isNull(liveSession.endedAt));
  assert.equal(open.map((s) => s.channelId), [channels['on-live-node']], "the live node's broadcast goes on");
  assert.equal(offline, [`on-dead-node ${NODE_GONE}`]);
});

t("a session unheld on one look and held on the next (its node's beat came late) is not ended", async ({ database }) => {
  const bus = await createBus(undefined);
  const [ch] = await database.db.insert(channel).values({ ownerId: 'u1', slug: 'late-beat', title: 'x' }).returning({ id: channel.id });
  await database.db.insert(liveSession).values({ id: crypto.randomUUID(), channelId: ch!.id, source: 'whip', startedAt: new Date(Date.now() - 60_000) });
  const sweep = new OrphanSweep(database.db, bus);
  const now = Date.now();
  await sweep.look([], now);
  await sweep.look([node('n', [{ id: ch!.id, slug: 'late-beat' }])], now + 3000);
  const ended = await sweep.look([], now + ENTRY_TTL_MS + 1000);
  assert.ok(ended.length <= 1, 'at most the earlier test’s live-node session, unheld on every look here');
  const [late] = await database.db.select({ id: liveSession.id }).from(liveSession).where(eq(liveSession.channelId, ch!.id));
  assert.not.ok(ended.includes(late!.id), 'unheld again, but only since this look');
  assert.is((await database.db.select().from(liveSession).where(isNull(liveSession.endedAt))).filter((s) => s.channelId === ch!.id).length, 1);
});

t.run();
