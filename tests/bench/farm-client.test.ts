// The viewer farm's client (bench/farm-client.ts) against a real SFU: a Chromium publisher (fake camera, VP8) and
// a few werift viewers that only count RTP headers. They get media, lose (almost) nothing on loopback, report a
// time to first frame, share one router with each other as Chromium viewers would (Chromium's payload types), and
// stop() ends their WHEP sessions.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FarmClient } from '../../bench/farm-client.ts';
import { channelWithKey, startTestApi, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { publish, view } from '../helpers/webrtc.ts';

type Ctx = { api: TestApi; browser: Browser };
const t = suite<Ctx>('farm client');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.browser = await launchBrowser({ fakeMedia: true });
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t('three farm clients receive the broadcast with ~0 loss and a TTFF, on the router a Chromium viewer uses, and stop() ends their sessions', async ({ api, browser }) => {
  const owner = await api.client().signUp('Farm');
  const key = await channelWithKey(owner, 'farm');
  const pub = await browser.context.newPage();
  await pub.goto(api.base + '/healthz');
  const published = await publish(pub, { slug: 'farm', key, codec: 'VP8' });
  assert.is(published.status, 201, published.body);
  const room = api.sfu.room('farm')!;

  const clients = [0, 1, 2].map(() => new FarmClient(api.base, 'farm'));
  try {
    await Promise.all(clients.map((c) => c.start()));
    assert.is(room.viewerCount, 3);
    // Chromium numbers codecs unlike the room's router: all three sit on branch routers of one numbering (one per
    // worker they are seated on), and a Chromium page joins that numbering
    const numberings = () => new Set(room.placement().branches.map((b) => b.numbering)).size;
    assert.is(numberings(), 1, 'the farm clients share one numbering');
    const page = await browser.context.newPage();
    await page.goto(api.base + '/healthz');
    const chromium = await view(page, 'farm');
    assert.is(chromium.status, 201);
    assert.is(numberings(), 1, 'a Chromium viewer uses the numbering the farm clients use');
    await (await fetch(new URL(chromium.location!, api.base), { method: 'DELETE' })).body?.cancel();
    await page.close();

    for (let i = 0; i < 40 && clients.some((c) => c.stats().videoPackets < 100); i++) await sleep(250);
    for (const [i, c] of clients.entries()) {
      const s = c.stats();
      assert.ok(s.videoPackets >= 100, `client ${i} received ${s.videoPackets} video packets`);
      assert.ok(s.audioPackets > 0, `client ${i} received audio`);
      assert.ok(s.ttffMs !== undefined && s.ttffMs > 0, `client ${i} has a TTFF (${s.ttffMs})`);
      const lost = Math.max(0, s.videoExpected - s.videoPackets);
      assert.ok(lost / s.videoExpected < 0.02, `client ${i} lost ${lost} of ${s.videoExpected}`);
      assert.ok(s.bytes > s.videoPackets * 12, 'bytes count headers and payloads');
    }
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
  }
  for (let i = 0; i < 20 && room.viewerCount > 0; i++) await sleep(100);
  assert.is(room.viewerCount, 0, 'DELETE ended every farm session');
});

t.run();
