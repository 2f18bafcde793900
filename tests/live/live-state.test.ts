// The channel page kept current by the socket with a real broadcast (SFU and recorder in process, Chromium): an open
// offline page asks nothing of WHEP, flips to live when the broadcast starts, counts a second viewer, and within 2 s
// of the end says Offline and links the recording — with no reload and no WHEP request while offline.
import * as assert from 'uvu/assert';
import { channelWithKey } from '../helpers/api.ts';
import { liveSuite } from '../helpers/live-suite.ts';
import { publish, unpublish, view } from '../helpers/webrtc.ts';

const t = liveSuite('channel page live state');

t('an open offline page goes live, counts viewers and turns offline with the VoD within 2 s, without reload or WHEP polling', async (ctx) => {
  const { api, browser } = ctx;
  const slug = 'state-page';
  const key = await channelWithKey(ctx.owner, slug, 'State page');
  const page = await browser.context.newPage();
  const pub = await browser.context.newPage();
  const second = await browser.context.newPage();
  page.setDefaultTimeout(20_000);
  const whepPosts: number[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/whep/')) whepPosts.push(Date.now());
  });
  try {
    await page.goto(`${api.base}/c/${slug}`);
    await page.getByTestId('player-status').filter({ hasText: 'Offline' }).waitFor();
    await page.evaluate(() => ((window as any).__sameDocument = true));
    // longer than the 5 s the page used to poll at
    await page.waitForTimeout(5500);
    assert.is(whepPosts.length, 0, 'no WHEP request while the channel is offline');

    await pub.goto(`${api.base}/healthz`);
    assert.is((await publish(pub, { slug, key })).status, 201);
    await page.getByTestId('live-badge').waitFor();
    await page.waitForFunction(() => {
      const v = document.querySelector('[data-testid="player-video"]') as HTMLVideoElement | null;
      return !!v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 5;
    });
    assert.ok(whepPosts.length >= 1, 'the page connected once it heard the channel went live');
    await page.waitForFunction(() => /^1 watching/.test(document.querySelector('[data-testid="viewer-count"]')?.textContent ?? ''));

    await second.goto(`${api.base}/healthz`);
    assert.is((await view(second, slug)).status, 201);
    await page.waitForFunction(() => /^2 watching/.test(document.querySelector('[data-testid="viewer-count"]')?.textContent ?? ''));
    await second.close();
    await page.waitForFunction(() => /^1 watching/.test(document.querySelector('[data-testid="viewer-count"]')?.textContent ?? ''));

    const ended = Date.now();
    assert.is(await unpublish(pub), 200);
    await page.getByTestId('player-status').filter({ hasText: 'Offline' }).waitFor({ timeout: 2000 });
    const link = page.getByTestId('ended-vod-link');
    await link.waitFor({ timeout: Math.max(1, 2000 - (Date.now() - ended)) });
    const card = page.locator('[data-testid="vod-card"]').first();
    await card.waitFor({ timeout: Math.max(1, 2000 - (Date.now() - ended)) });
    const tookMs = Date.now() - ended;
    assert.ok(tookMs <= 2000, `offline with the VoD link after ${tookMs} ms`);
    const vodHref = await link.getAttribute('href');
    assert.match(vodHref ?? '', /^\/v\/[0-9a-f-]{36}$/);
    assert.is(await card.getAttribute('href'), vodHref, 'the past broadcasts list has the recording');
    assert.not.match((await card.textContent()) ?? '', /live now/, 'the ended broadcast’s recording is not "live now"');
    assert.is(await page.locator('.channel-title-row .badge-live').count(), 0, 'the title row no longer says Live');

    // the recording becomes ready: the link says so, still without a reload
    await page.getByTestId('ended-vod-link').filter({ hasText: 'Watch the recording' }).waitFor({ timeout: 30_000 });
    const afterEnd = whepPosts.length;
    await page.waitForTimeout(2000);
    assert.is(whepPosts.length, afterEnd, 'no WHEP request after the end');
    assert.ok(await page.evaluate(() => (window as any).__sameDocument === true), 'the page was never reloaded');
  } finally {
    await second.close().catch(() => undefined);
    await pub.close();
    await page.close();
  }
});

t.run();
