// One broadcast across every core (sfu/Fanout.ts): with two workers and two viewers per channel per worker, one
// channel's Chromium viewers sit on both workers, each decodes video, a viewer on a branch gets the simulcast layer it
// prefers, a branch closes with its last viewer, and killing a branch's worker drops only its viewers — the broadcast
// and the viewers on the origin's worker go on. Chromium numbers codecs differently from the room's router, so its
// viewers consume from branches on the origin's worker too (the hand-built pipe within one worker).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { channelWithKey, startTestApi, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { publish, unpublish, until, view, viewerStats } from '../helpers/webrtc.ts';
import type { Room } from '../../sfu/Room.ts';

type Ctx = { api: TestApi; browser: Browser; pub: Page; room: Room };
const t = suite<Ctx>('one channel on every worker');

t.before(async (ctx) => {
  ctx.api = await startTestApi({ SFU_WORKERS: '2', SFU_VIEWERS_PER_CHANNEL: '2', SFU_MAX_VIEWERS: '10' });
  const owner = await ctx.api.client().signUp('Fanned Out');
  const key = await channelWithKey(owner, 'fanned');
  ctx.browser = await launchBrowser({ fakeMedia: true });
  ctx.pub = await ctx.browser.context.newPage();
  await ctx.pub.goto(ctx.api.base + '/');
  const p = await publish(ctx.pub, { slug: 'fanned', key, codec: 'VP8', simulcast: true });
  if (p.status !== 201) throw new Error(`publish: ${p.status} ${p.body}`);
  ctx.room = ctx.api.sfu.room('fanned')!;
  // the lowest layer at least, so a viewer preferring it has it
  await until(async () => (await ctx.room.producerStats()).filter((s) => s.kind === 'video' && s.packetCount > 0).length, (n) => n >= 2, 15_000);
});
t.after(async (ctx) => {
  if (ctx.pub) await unpublish(ctx.pub).catch(() => undefined);
  await ctx.browser?.close();
  await ctx.api?.stop();
});

type Viewer = { page: Page; token: string };

async function watch({ api, browser }: Ctx): Promise<Viewer> {
  const page = await browser.context.newPage();
  await page.goto(api.base + '/');
  const res = await view(page, 'fanned', { small: true });
  assert.is(res.status, 201, res.body);
  return { page, token: res.location!.split('/').pop()! };
}

async function leave(ctx: Ctx, v: Viewer) {
  await v.page.evaluate(async () => {
    const { pc, location } = (window as any).__view as { pc: RTCPeerConnection; location: string };
    await fetch(location, { method: 'DELETE' });
    pc.close();
  }).catch(() => undefined);
  await v.page.close();
}

const decoding = (v: Viewer, more = 10) => until(() => viewerStats(v.page), (s) => s.framesDecoded > more, 15_000);

/** The width of the video the viewer decodes now. */
const frameWidth = (v: Viewer) =>
  v.page.evaluate(async () => {
    let width = 0;
    (await ((window as any).__view.pc as RTCPeerConnection).getStats()).forEach((s: any) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') width = s.frameWidth ?? 0;
    });
    return width;
  });

t('viewers of one channel are seated on both workers, and every one decodes video', async (ctx) => {
  const { api, room } = ctx;
  const viewers = [await watch(ctx), await watch(ctx), await watch(ctx)];
  try {
    const workers = new Set(viewers.map((v) => room.viewerWorker(v.token)));
    assert.is(workers.size, 2, `seated on ${JSON.stringify(room.placement())}`);
    const seated = (await api.sfu.pool.usage()).map((u) => u.viewers);
    assert.equal(seated.sort(), [1, 2], 'the pool counts them per worker');
    for (const v of viewers) {
      const s = await decoding(v);
      assert.ok(s.framesDecoded > 10, `viewer on worker ${room.viewerWorker(v.token)}: ${JSON.stringify(s)}`);
      assert.ok(s.audioPackets > 0, 'and audio');
    }
  } finally {
    for (const v of viewers) await leave(ctx, v);
  }
  assert.is(room.viewerCount, 0);
});

t('a viewer on the other worker gets the simulcast layer it prefers', async (ctx) => {
  const { room } = ctx;
  const viewers = [await watch(ctx), await watch(ctx)];
  try {
    const away = viewers.find((v) => room.viewerWorker(v.token) !== room.placement().origin)!;
    assert.ok(away, `one viewer off the origin's worker: ${JSON.stringify(room.placement())}`);
    await decoding(away);
    await room.preferLayers(away.token, { spatialLayer: 0 });
    const layers = await until(async () => (await room.viewerLayers(away.token))!, (l) => l.current?.spatialLayer === 0, 10_000);
    assert.equal(layers.current?.spatialLayer, 0, JSON.stringify(layers));
    // the lowest layer is a quarter of the 1280 px camera
    const width = await until(() => frameWidth(away), (w) => w > 0 && w <= 320, 10_000);
    assert.ok(width > 0 && width <= 320, `decodes ${width} px wide`);
  } finally {
    for (const v of viewers) await leave(ctx, v);
  }
});

t('a branch closes with its last viewer, leaving nothing behind', async (ctx) => {
  const { room } = ctx;
  const before = await room.dump();
  const viewers = [await watch(ctx), await watch(ctx)];
  const away = viewers.find((v) => room.viewerWorker(v.token) !== room.placement().origin)!;
  const awayWorker = room.viewerWorker(away.token);
  assert.is(room.placement().branches.filter((b) => b.worker === awayWorker).length, 1, JSON.stringify(room.placement()));
  await leave(ctx, away);
  assert.equal(room.placement().branches.filter((b) => b.worker === awayWorker), [], 'its branch closed');
  for (const v of viewers.filter((v) => v !== away)) await leave(ctx, v);
  assert.equal(room.placement().branches, []);
  const after = await until(() => room.dump(), (d) => d.transports <= before.transports, 5_000);
  assert.equal(after, before, 'branch routers, pipes and consumers are gone');
});

t("kill -9 of a branch's worker drops its viewers only: the broadcast and the origin worker's viewers go on", async (ctx) => {
  const { api, room } = ctx;
  const viewers = [await watch(ctx), await watch(ctx)];
  try {
    const origin = room.placement().origin;
    const home = viewers.find((v) => room.viewerWorker(v.token) === origin)!;
    const away = viewers.find((v) => room.viewerWorker(v.token) !== origin)!;
    assert.ok(home && away, JSON.stringify(room.placement()));
    await decoding(home);
    await decoding(away);
    const victim = (await api.sfu.pool.usage()).find((u) => u.worker !== origin)!.pid;
    process.kill(victim, 'SIGKILL');
    await until(async () => room.viewerCount, (n) => n === 1, 10_000);
    assert.not.ok(room.isClosed, 'the broadcast goes on');
    assert.ok(room.publisherId, 'with its publisher');
    assert.ok(room.hasViewer(home.token), "the origin worker's viewer stays");
    assert.not.ok(room.hasViewer(away.token), "the dead worker's viewer is dropped");
    assert.equal(room.placement().branches.filter((b) => b.worker !== origin), []);
    const was = (await viewerStats(home.page)).framesDecoded;
    const now = await decoding(home, was + 10);
    assert.ok(now.framesDecoded > was + 10, `still decoding: ${was} → ${now.framesDecoded}`);
    // the replaced worker seats viewers again
    await until(async () => (await api.sfu.pool.usage()).map((u) => u.pid), (p) => p.length === 2 && !p.includes(victim), 10_000);
    const back = await watch(ctx);
    viewers.push(back);
    assert.is(room.viewerWorker(back.token) === origin ? 'origin' : 'other', 'other', 'the newcomer goes to the emptier, new worker');
    const s = await decoding(back);
    assert.ok(s.framesDecoded > 10, JSON.stringify(s));
  } finally {
    for (const v of viewers) await leave(ctx, v);
  }
});

t.run();
