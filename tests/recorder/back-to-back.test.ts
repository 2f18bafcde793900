// Broadcasts back to back on one channel (OBS's "stop, start", a studio reloaded): each one a viewer saw is recorded
// whole, whatever came just before it — the ending recording never attaches to, steals from or stops the next one's.
import * as assert from 'uvu/assert';
import { liveSuite, type LiveCtx } from '../helpers/live-suite.ts';
import { runningRecorders } from '../../recorder/Recording.ts';
import { channelWithKey } from '../helpers/api.ts';
import { checkRecordedWhole, checkWhileLive, mediaStarts, type Broadcast } from '../helpers/recording.ts';
import { publish, unpublish, until } from '../helpers/webrtc.ts';

type Ctx = LiveCtx;
const t = liveSuite('recordings of back-to-back broadcasts', { owner: 'Back To Back Recorder', env: { WHIP_AUTH_FAILURES_PER_MINUTE: '1000' } });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Chromium WHIP broadcast (VP8 + Opus) of about `seconds` of media; `whileLive` runs during it. */
async function broadcast({ api, browser }: Ctx, slug: string, key: string, seconds: number, whileLive?: (b: Broadcast) => Promise<void>): Promise<Broadcast> {
  const page = await browser.context.newPage();
  try {
    await page.goto(api.base + '/healthz');
    const p = await publish(page, { slug, key, codec: 'VP8' });
    assert.is(p.status, 201, p.body);
    const b = await mediaStarts(api, slug);
    const started = Date.now();
    await whileLive?.(b);
    await sleep(Math.max(0, seconds * 1000 - (Date.now() - started)));
    assert.is(await unpublish(page), 200);
    return b;
  } finally {
    await page.close();
  }
}

t('a ~10 s broadcast started a second after a short one ended is recorded whole, and so is the short one', async (ctx) => {
  const { api, owner } = ctx;
  const slug = 'b2b-pair';
  const key = await channelWithKey(owner, slug);
  const short = await broadcast(ctx, slug, key, 3);
  await sleep(1000);
  const long = await broadcast(ctx, slug, key, 10, (b) => checkWhileLive(api, owner, b));
  assert.is.not(long.sessionId, short.sessionId);
  for (const b of [short, long]) {
    const r = await checkRecordedWhole(api, owner, b);
    console.log(`    ${b === short ? 'short' : 'long'}: VoD ${r.seconds.toFixed(2)} s of a ${r.broadcast.toFixed(2)} s broadcast`);
  }
  assert.is(await until(async () => runningRecorders().length, (n) => n === 0, 10_000), 0, 'no recording FFmpeg left');
});

t('three ~8 s broadcasts in a row on one channel: three whole VoDs, each listed while live', async (ctx) => {
  const { api, owner } = ctx;
  const slug = 'b2b-three';
  const key = await channelWithKey(owner, slug);
  const done: Broadcast[] = [];
  for (let i = 0; i < 3; i++) done.push(await broadcast(ctx, slug, key, 8, (b) => checkWhileLive(api, owner, b)));
  for (const b of done) {
    const r = await checkRecordedWhole(api, owner, b);
    console.log(`    ${b.sessionId.slice(0, 8)}: VoD ${r.seconds.toFixed(2)} s of a ${r.broadcast.toFixed(2)} s broadcast`);
  }
  const listed = await owner.get(`/api/channels/${slug}/vods`);
  assert.is(listed.body.items.filter((v: { status: string }) => v.status === 'ready').length, 3, JSON.stringify(listed.body.items));
  assert.is(await until(async () => runningRecorders().length, (n) => n === 0, 10_000), 0, 'no recording FFmpeg left');
});

t.run();
