// @runtime-matrix
// Live state over Socket.IO with real socket.io-client connections: a socket `watch`es channels and hears them go live
// and offline (with the recording's id), their viewer counts (at most one a second per channel) and their recordings
// become ready — from the bus events the SFU and the recorder publish (published here on the API's own bus; the media
// plane runs elsewhere: SFU_URL). The watch list is bounded, validated and rate-limited.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Socket } from 'socket.io-client';
import { eq } from 'drizzle-orm';
import { channel, liveSession, vod } from '../../shared/db/index.ts';
import { MAX_WATCHED, SOCKET_WATCHES } from '../../api/live-state.ts';
import { runtime, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { chatSocket } from '../helpers/chat.ts';

type Ctx = { api: TestApi; owner: Client; sockets: Socket[] };
const t = suite<Ctx>(`live state over the socket (${runtime})`);

t.before(async (ctx) => {
  // no media plane in this process: the test publishes what the SFU and the recorder would
  ctx.api = await startTestApi({ SFU_URL: 'http://127.0.0.1:9' });
  ctx.owner = await ctx.api.client().signUp('Caster');
  ctx.sockets = [];
  for (const slug of ['quiet-one', 'goes-live', 'other-one', 'counted', 'recorded', 'directory-one', 'renamed-live']) {
    assert.is((await ctx.owner.post('/api/channels', { slug, title: `Title of ${slug}` })).status, 201);
  }
});
t.after.each((ctx) => {
  for (const s of ctx.sockets.splice(0)) s.disconnect();
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

async function connect(ctx: Ctx): Promise<Socket> {
  const socket = await chatSocket(ctx.api.base);
  ctx.sockets.push(socket);
  return socket;
}
const watch = (s: Socket, payload: unknown) => s.timeout(5000).emitWithAck('watch', payload);
/** Every `event` the socket hears from now on. */
const record = <T>(s: Socket, event: string) => {
  const seen: T[] = [];
  s.on(event, (e: T) => seen.push(e));
  return seen;
};
const until = async (what: string, ok: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
const channelId = async (ctx: Ctx, slug: string) => (await ctx.api.deps.database.db.select({ id: channel.id }).from(channel).where(eq(channel.slug, slug)))[0]!.id;

/** What the SFU does when a broadcast starts: the live session row, then channel.live. */
async function goLive(ctx: Ctx, slug: string) {
  const id = await channelId(ctx, slug);
  const sessionId = crypto.randomUUID();
  const startedAt = new Date();
  await ctx.api.deps.database.db.insert(liveSession).values({ id: sessionId, channelId: id, source: 'whip', codecs: ['video/VP8'], startedAt });
  await ctx.api.deps.bus.publish('channel.live', { channelId: id, slug, sessionId, source: 'whip', codecs: ['video/VP8'], startedAt: startedAt.toISOString() });
  return { channelId: id, sessionId };
}

t('a watch acknowledges each channel it found with its state now; unknown ones are left out', async (ctx) => {
  const s = await connect(ctx);
  const reply = await watch(s, { channels: ['quiet-one', 'no-such-channel'] });
  assert.is(reply.ok, true, JSON.stringify(reply));
  assert.equal(reply.channels, [{ slug: 'quiet-one', title: 'Title of quiet-one', live: null }]);
});

t('bad watches are refused with a reason: not a list, a bad address, too many channels', async (ctx) => {
  const s = await connect(ctx);
  for (const bad of [null, 'quiet-one', { channels: 'quiet-one' }, { channels: [42] }, { channels: ['Not A Slug!'] }, { channels: ['x'.repeat(65)] }, { channels: [], directory: 'yes' }]) {
    const reply = await watch(s, bad);
    assert.is(reply.ok, false, JSON.stringify(bad));
    assert.is(reply.error.code, 'invalid', JSON.stringify(bad));
  }
  const many = Array.from({ length: MAX_WATCHED + 1 }, (_, i) => `channel-${i}`);
  const reply = await watch(s, { channels: many });
  assert.is(reply.ok, false);
  assert.is(reply.error.code, 'too-many-rooms');
  assert.is((await watch(s, { channels: many.slice(0, MAX_WATCHED) })).ok, true, 'the bound itself is allowed');
  assert.ok(s.connected, 'a refusal does not end the connection');
});

t('a watcher hears its channel go live and offline (with its recording), others do not; the snapshot says live', async (ctx) => {
  const watcher = await connect(ctx);
  const bystander = await connect(ctx);
  assert.is((await watch(watcher, { channels: ['goes-live'] })).ok, true);
  assert.is((await watch(bystander, { channels: ['other-one'] })).ok, true);
  const live = record<any>(watcher, 'channel:live');
  const offline = record<any>(watcher, 'channel:offline');
  const heardByBystander = [...['channel:live', 'channel:offline'].map((e) => record<any>(bystander, e))];

  const { channelId: id, sessionId } = await goLive(ctx, 'goes-live');
  await until('channel:live', () => live.length === 1);
  assert.is(live[0].slug, 'goes-live');
  assert.is(live[0].title, 'Title of goes-live');
  assert.is(live[0].live.sessionId, sessionId);
  assert.is(live[0].live.viewers, 0);

  const late = await connect(ctx);
  const snap = await watch(late, { channels: ['goes-live'] });
  assert.is(snap.channels[0].live.sessionId, sessionId, 'a page watching later is told it is live');

  // the recorder's row for the broadcast, then the SFU's end
  const vodId = crypto.randomUUID();
  await ctx.api.deps.database.db.insert(vod).values({ id: vodId, channelId: id, liveSessionId: sessionId, title: 'Title of goes-live', status: 'recording', storagePrefix: `vod/${vodId}/` });
  await ctx.api.deps.database.db.update(liveSession).set({ endedAt: new Date() }).where(eq(liveSession.id, sessionId));
  await ctx.api.deps.bus.publish('channel.offline', { channelId: id, slug: 'goes-live', sessionId, reason: 'ended', peakViewers: 0 });
  await until('channel:offline', () => offline.length === 1);
  assert.equal(offline[0], { slug: 'goes-live', vodId });
  assert.is((await watch(late, { channels: ['goes-live'] })).channels[0].live, null);
  assert.equal(heardByBystander.flat(), [], 'a socket watching another channel hears nothing of this one');
});

t("the owner's rename of the broadcast on air reaches its watchers with the new title and category", async (ctx) => {
  const watcher = await connect(ctx);
  assert.is((await watch(watcher, { channels: ['renamed-live'] })).ok, true);
  const live = record<any>(watcher, 'channel:live');
  const { sessionId } = await goLive(ctx, 'renamed-live');
  await until('channel:live', () => live.length === 1);
  assert.is(live[0].live.title, '', 'no broadcast title was set before going live');

  const res = await ctx.owner.put('/api/channels/renamed-live/broadcast', { json: { title: 'Late night requests', category: 'Music' } });
  assert.is(res.status, 200);
  await until('the rename', () => live.length === 2);
  assert.is(live[1].live.sessionId, sessionId, 'the same broadcast');
  assert.is(live[1].live.title, 'Late night requests');
  assert.is(live[1].live.category, 'Music');
  const snap = await watch(await connect(ctx), { channels: ['renamed-live'] });
  assert.is(snap.channels[0].live.title, 'Late night requests', 'a page watching later reads the new title too');
});

t('viewer counts reach watchers at most once a second per channel, the latest last', async (ctx) => {
  const s = await connect(ctx);
  assert.is((await watch(s, { channels: ['counted'] })).ok, true);
  const counts = record<any>(s, 'channel:viewers');
  const { channelId: id, sessionId } = await goLive(ctx, 'counted');
  for (let n = 1; n <= 6; n++) await ctx.api.deps.bus.publish('channel.viewers', { channelId: id, slug: 'counted', sessionId, viewers: n });
  await until('the first count', () => counts.length >= 1);
  assert.equal(counts[0], { slug: 'counted', count: 1 }, 'the first change goes out at once');
  await until('the latest count', () => counts.at(-1)?.count === 6, 3000);
  await new Promise((r) => setTimeout(r, 1200));
  assert.is(counts.length, 2, `six changes within a second are sent as two: ${JSON.stringify(counts)}`);
});

t('vod:ready names the recording to the channel\'s watchers', async (ctx) => {
  const s = await connect(ctx);
  assert.is((await watch(s, { channels: ['recorded'] })).ok, true);
  const ready = record<any>(s, 'vod:ready');
  const id = await channelId(ctx, 'recorded');
  const vodId = crypto.randomUUID();
  await ctx.api.deps.database.db.insert(vod).values({ id: vodId, channelId: id, title: 'The recording', status: 'ready', storagePrefix: `vod/${vodId}/` });
  await ctx.api.deps.bus.publish('vod.ready', { vodId, channelId: id, sessionId: null, durationMs: 6000 });
  await until('vod:ready', () => ready.length === 1);
  assert.equal(ready[0], { slug: 'recorded', vodId, title: 'The recording' });
});

t('a directory watch hears every channel go live; a watch of nothing stops it all', async (ctx) => {
  const s = await connect(ctx);
  assert.is((await watch(s, { channels: [], directory: true })).ok, true);
  const live = record<any>(s, 'channel:live');
  await goLive(ctx, 'directory-one');
  await until('channel:live', () => live.length === 1);
  assert.is(live[0].slug, 'directory-one');

  assert.is((await watch(s, { channels: [] })).ok, true);
  const again = await goLive(ctx, 'quiet-one');
  await ctx.api.deps.bus.publish('channel.viewers', { channelId: again.channelId, slug: 'quiet-one', sessionId: again.sessionId, viewers: 3 });
  await new Promise((r) => setTimeout(r, 300));
  assert.is(live.length, 1, 'nothing after the watch was emptied');
});

t(`watches are rate-limited per socket (${SOCKET_WATCHES} a window) with how long to wait`, async (ctx) => {
  const s = await connect(ctx);
  const replies = [];
  for (let i = 0; i <= SOCKET_WATCHES; i++) replies.push(await watch(s, { channels: ['quiet-one'] }));
  assert.ok(replies.slice(0, SOCKET_WATCHES).every((r) => r.ok));
  const last = replies.at(-1);
  assert.is(last.ok, false);
  assert.is(last.error.code, 'rate-limited');
  assert.ok(last.error.retryAfterMs > 0);
});

t.run();
