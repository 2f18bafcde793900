// Chat replay on a VoD: messages sent during a Chromium broadcast come back with the recording (GET
// /api/vods/{id}/chat, deleted ones left out), and the VoD page shows each one once playback reaches the moment it was
// sent — not before, and again only up to there after seeking back.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Socket } from 'socket.io-client';
import { channelWithKey, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { chatSocket } from '../helpers/chat.ts';
import { publish, unpublish, until } from '../helpers/webrtc.ts';

type Ctx = { api: TestApi; owner: Client; browser: Browser; sockets: Socket[] };
const t = suite<Ctx>('chat replay on a VoD');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Replayer');
  ctx.browser = await launchBrowser({ fakeMedia: true });
  ctx.sockets = [];
});
t.after(async (ctx) => {
  for (const s of ctx.sockets) s.disconnect();
  await ctx.browser?.close();
  await ctx.api?.stop();
});

t('messages sent during the broadcast replay beside the VoD in step with playback', async (ctx) => {
  const { api, owner, browser } = ctx;
  const key = await channelWithKey(owner, 'replay');
  const page = await browser.context.newPage();
  await page.goto(api.base + '/healthz');
  const p = await publish(page, { slug: 'replay', key, codec: 'H264' });
  assert.is(p.status, 201, p.body);
  await until(async () => (await api.sfu.room('replay')?.producerStats())?.some((s) => s.kind === 'video' && s.packetCount > 0) ?? false, (x) => x, 10_000);
  const chat = await chatSocket(api.base, owner);
  ctx.sockets.push(chat);
  await chat.timeout(5000).emitWithAck('join', { channel: 'replay' });
  await sleep(2000);
  const early = (await chat.timeout(5000).emitWithAck('send', { channel: 'replay', text: 'early message' })).message;
  const removed = (await chat.timeout(5000).emitWithAck('send', { channel: 'replay', text: 'removed message' })).message;
  assert.is((await chat.timeout(5000).emitWithAck('delete', { channel: 'replay', id: removed.id })).ok, true);
  await sleep(6000);
  const late = (await chat.timeout(5000).emitWithAck('send', { channel: 'replay', text: 'late message' })).message;
  await sleep(2500);
  await unpublish(page);
  await page.close();
  const list = await until(() => owner.get('/api/channels/replay/vods'), (r) => r.body.items?.[0]?.status === 'ready', 10_000);
  const vod = list.body.items[0];

  const replay = await owner.get(`/api/vods/${vod.id}/chat`);
  assert.is(replay.status, 200);
  assert.equal(replay.body.items.map((m: any) => m.text), ['early message', 'late message'], 'in order, the deleted one left out');
  assert.ok(Math.abs(replay.body.items[1].offsetMs - replay.body.items[0].offsetMs - 6000) < 1500, 'offsets ~6 s apart');
  assert.is((await owner.get('/api/vods/00000000-0000-4000-8000-000000000000/chat')).status, 404);

  const viewer = await browser.context.newPage();
  await viewer.goto(`${api.base}/v/${vod.id}`);
  const panel = viewer.getByTestId('chat-replay');
  await panel.waitFor();
  const shown = () => panel.getByTestId('replay-message').allTextContents();
  const playTo = (seconds: number) =>
    viewer.evaluate(async (target) => {
      const video = document.querySelector('[data-testid="vod-video"]') as HTMLVideoElement;
      video.muted = true;
      const start = performance.now();
      while (video.readyState < 1 && performance.now() - start < 10_000) await new Promise((r) => setTimeout(r, 100));
      if (Math.abs(video.currentTime - target) > 1) video.currentTime = target;
      await video.play().catch(() => undefined);
      while (video.currentTime < target + 0.5 && performance.now() - start < 15_000) await new Promise((r) => setTimeout(r, 100));
      video.pause();
      await new Promise((r) => setTimeout(r, 400));
      return video.currentTime;
    }, seconds);

  // the early message was sent ~2 s into the recording, the late one ~8 s in
  const at0 = await playTo(0.2);
  assert.equal(await shown(), [], `nothing yet at ${at0.toFixed(1)} s`);
  const at4 = await playTo(4.5);
  assert.equal((await shown()).map((s) => s.replace(/^Replayer\s+/, '')), ['early message'], `at ${at4.toFixed(1)} s only the early message`);
  const atEnd = await playTo((vod.durationSeconds as number) - 1.5);
  assert.equal((await shown()).map((s) => s.replace(/^Replayer\s+/, '')), ['early message', 'late message'], `at ${atEnd.toFixed(1)} s both`);
  const back = await playTo(0.2);
  assert.equal(await shown(), [], `seeking back to ${back.toFixed(1)} s hides them again`);
  assert.ok(early.id && late.id);
  await viewer.close();
});

t.run();
