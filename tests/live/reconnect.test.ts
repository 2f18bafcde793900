// A publisher whose connection drops (tab closed) may come back within the grace period and continue the same
// broadcast; one that does not is ended, with its live session closed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { publish, unpublish, until, withKey } from '../helpers/webrtc.ts';

type Ctx = { api: TestApi; owner: Client; browser: Browser };
const t = suite<Ctx>('publisher reconnect grace period');
const GRACE_MS = 4000;

t.before(async (ctx) => {
  ctx.api = await startTestApi({ PUBLISH_GRACE_MS: String(GRACE_MS) });
  ctx.owner = await ctx.api.client().signUp('Flaky');
  ctx.browser = await launchBrowser({ fakeMedia: true });
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
});

async function goLive(ctx: Ctx, slug: string, key: string) {
  const page = await ctx.browser.context.newPage();
  await page.goto(ctx.api.base + '/');
  const r = await publish(page, { slug, key });
  assert.is(r.status, 201, r.body);
  await until(async () => (await ctx.api.sfu.room(slug)?.producerStats())?.some((s) => s.packetCount > 0) ?? false, (x) => x, 10_000);
  return page;
}

/** Segments of the channel's recording in progress, by its playlist. */
async function recordedSegments(ctx: Ctx, slug: string): Promise<number> {
  const vod = (await ctx.owner.get(`/api/channels/${slug}/vods`)).body.items?.[0];
  if (!vod?.playlistUrl) return 0;
  const res = await fetch(ctx.api.base + vod.playlistUrl);
  return res.ok ? ((await res.text()).match(/#EXTINF/g) ?? []).length : 0;
}

t('a publisher that reconnects within the grace period continues the same live session', async (ctx) => {
  const { api, owner } = ctx;
  await owner.post('/api/channels', { slug: 'flaky', title: 'Flaky' });
  const key = (await owner.post('/api/channels/flaky/stream-keys', {})).body.key;
  const events: string[] = [];
  const offs = [api.deps.bus.subscribe('channel.live', () => events.push('live')), api.deps.bus.subscribe('channel.offline', () => events.push('offline'))];
  try {
    const first = await goLive(ctx, 'flaky', key);
    const sessionId = (await owner.get('/api/channels/flaky')).body.live.sessionId;
    // the first publisher stays until the recording holds some of it (a loaded machine starts FFmpeg late)
    const segments = await until(() => recordedSegments(ctx, 'flaky'), (n) => n >= 1, 20_000);
    assert.ok(segments >= 1, 'the first publisher was recorded before the drop');
    await first.close(); // the tab is closed: DTLS close, the connection is gone
    const lost = await until(async () => api.sfu.room('flaky')?.publisherId, (id) => id === undefined, 8_000);
    assert.is(lost, undefined, 'the publisher is gone');
    assert.ok(api.sfu.room('flaky'), 'but the broadcast waits for it');
    assert.is((await owner.get('/api/channels/flaky')).body.live?.sessionId, sessionId, 'still live in the API');

    const second = await goLive(ctx, 'flaky', key);
    assert.is((await owner.get('/api/channels/flaky')).body.live?.sessionId, sessionId, 'same live session after reconnecting');
    await new Promise((r) => setTimeout(r, GRACE_MS + 500));
    assert.ok(api.sfu.room('flaky')?.publisherId, 'the grace timer was cancelled');
    assert.equal(events, ['live'], 'viewers and followers saw one uninterrupted broadcast');
    await new Promise((r) => setTimeout(r, 4000));
    await unpublish(second);
    await second.close();
    // one recording of the whole session: before the drop, a discontinuity, after the return
    const vods = await until(() => owner.get('/api/channels/flaky/vods'), (r) => r.body.items?.[0]?.status === 'ready', 10_000);
    assert.is(vods.body.items.length, 1);
    const text = await (await fetch(api.base + vods.body.items[0].playlistUrl)).text();
    assert.match(text, /#EXT-X-DISCONTINUITY/);
    const after = text.slice(text.lastIndexOf('#EXT-X-DISCONTINUITY'));
    const secondsAfter = [...after.matchAll(/#EXTINF:([\d.]+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    assert.ok(secondsAfter >= 6, `the returning publisher was recorded (${secondsAfter.toFixed(1)} s after the discontinuity)`);
  } finally {
    for (const off of offs) off();
  }
});

t('a publisher that does not come back is ended after the grace period', async (ctx) => {
  const { api, owner } = ctx;
  await owner.post('/api/channels', { slug: 'gone-for-good', title: 'Gone' });
  const key = (await owner.post('/api/channels/gone-for-good/stream-keys', {})).body.key;
  const page = await goLive(ctx, 'gone-for-good', key);
  const sessionId = (await owner.get('/api/channels/gone-for-good')).body.live.sessionId;
  const closedAt = Date.now();
  await page.close();
  const room = await until(async () => api.sfu.room('gone-for-good'), (r) => r === undefined, GRACE_MS + 8_000);
  assert.is(room, undefined);
  const waited = Date.now() - closedAt;
  assert.ok(waited >= GRACE_MS - 200, `ended after the grace period (${waited} ms)`);
  const live = await until(async () => (await owner.get('/api/channels/gone-for-good')).body.live, (l) => l === null, 3_000);
  assert.is(live, null);
  const { liveSession } = await import('../../shared/db/index.ts');
  const { eq } = await import('drizzle-orm');
  const [row] = await api.deps.database.db.select().from(liveSession).where(eq(liveSession.id, sessionId));
  assert.ok(row?.endedAt);
  assert.match(row!.endReason ?? '', /dtls|ice|nothing received/);
});

t('DELETE of a publisher session that has dropped ends the broadcast at once', async (ctx) => {
  const { api, owner } = ctx;
  await owner.post('/api/channels', { slug: 'drop-then-delete', title: 'D' });
  const key = (await owner.post('/api/channels/drop-then-delete/stream-keys', {})).body.key;
  const page = await goLive(ctx, 'drop-then-delete', key);
  const location = await page.evaluate(() => (window as any).__pub.location as string);
  await page.close();
  await until(async () => api.sfu.room('drop-then-delete')?.publisherId, (id) => id === undefined, 8_000);
  assert.ok(api.sfu.room('drop-then-delete'), 'waiting for the publisher');
  assert.is((await fetch(api.base + location, { method: 'DELETE', headers: withKey(key) })).status, 200);
  assert.is(api.sfu.room('drop-then-delete'), undefined);
});

t.run();
