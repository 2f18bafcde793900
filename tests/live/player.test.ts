// The channel page's player controls against the real SFU and recorder: the quality menu switches the simulcast
// layer a viewer receives (GET/POST /whep/…/layers), the keyboard shortcuts mute and pause, the rewind plays the
// DVR (the recording in progress, over HLS) from its start in the same player and "Back to live" returns to WebRTC;
// volume, fullscreen and picture-in-picture (tests/helpers/player-controls.ts, shared with the VoD player's suite).
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { liveSuite, type LiveCtx } from '../helpers/live-suite.ts';
import { channelWithKey } from '../helpers/api.ts';
import { mediaStarts } from '../helpers/recording.ts';
import { checkFullscreen, checkNoPictureInPicture, checkPictureInPicture, checkVolume, withoutPictureInPicture } from '../helpers/player-controls.ts';
import { publish, until } from '../helpers/webrtc.ts';

const t = liveSuite('player controls', { owner: 'Caster' });

const json = { 'content-type': 'application/json' };

t('POST /whep/…/layers: a bad body is a 400 (problem+json), another type 415, an oversized one 413, an unknown session 404', async ({ api }) => {
  const url = `${api.base}/whep/nobody-here/${'A'.repeat(43)}/layers`;
  for (const body of ['{"spatialLayer": -1}', '{"spatialLayer": 1.5}', '{"auto": false}', '{"spatialLayer": 0, "extra": 1}', 'not json', '[]']) {
    const r = await fetch(url, { method: 'POST', headers: json, body });
    assert.is(r.status, 400, body);
    assert.is(r.headers.get('content-type'), 'application/problem+json');
    assert.ok(((await r.json()) as { detail?: string }).detail, 'says what to send');
  }
  assert.is((await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"auto":true}' })).status, 415);
  assert.is((await fetch(url, { method: 'POST', headers: json, body: JSON.stringify({ auto: true, pad: 'x'.repeat(4000) }) })).status, 413);
  const unknown = await fetch(url, { method: 'POST', headers: json, body: '{"auto": true}' });
  assert.is(unknown.status, 404);
  assert.is(unknown.headers.get('content-type'), 'application/problem+json');
  assert.is((await fetch(url)).status, 404, 'GET of an unknown session');
});

/** The channel page playing `slug` over WebRTC in a new page, and the viewer session's Location the page was given. */
type Watch = { page: Page; location(): string | null; link(): string | null };

async function watch(ctx: LiveCtx, slug: string): Promise<Watch> {
  const page = await ctx.browser.context.newPage();
  page.setDefaultTimeout(20_000);
  let location: string | null = null;
  let link: string | null = null;
  page.on('response', (r) => {
    if (r.request().method() === 'POST' && new URL(r.url()).pathname === `/whep/${slug}` && r.status() === 201) {
      location = r.headers()['location'] ?? null;
      link = r.headers()['link'] ?? null;
    }
  });
  await page.goto(`${ctx.api.base}/c/${slug}`);
  await page.locator('[data-testid="player"][data-mode="live"]').waitFor();
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid="player-video"]') as HTMLVideoElement | null;
    return !!v && v.getVideoPlaybackQuality().totalVideoFrames > 10 && v.videoWidth > 0;
  });
  return { page, location: () => location, link: () => link };
}

/** A Chromium broadcast on a new channel `slug` and the channel page watching it: `body` runs while both are open. */
async function watching(ctx: LiveCtx, slug: string, simulcast: boolean, body: (w: Watch) => Promise<void>) {
  const key = await channelWithKey(ctx.owner, slug);
  const pub = await ctx.browser.context.newPage();
  let w: Watch | undefined;
  try {
    await pub.goto(ctx.api.base + '/healthz');
    assert.is((await publish(pub, { slug, key, codec: 'VP8', simulcast })).status, 201);
    await mediaStarts(ctx.api, slug);
    w = await watch(ctx, slug);
    await body(w);
  } finally {
    await w?.page.close();
    await pub.close();
  }
}

const videoWidth = (page: Page) => page.evaluate(() => (document.querySelector('[data-testid="player-video"]') as HTMLVideoElement).videoWidth);
const frames = (page: Page) => page.evaluate(() => (document.querySelector('[data-testid="player-video"]') as HTMLVideoElement).getVideoPlaybackQuality().totalVideoFrames);

t('the quality menu lists Auto and the three simulcast layers; choosing one changes the received resolution', (ctx) =>
  watching(ctx, 'layered', true, async (w) => {
    const { api } = ctx;
    const viewer = w.page;
    const location = w.location();
    assert.ok(location, 'the page was given a WHEP session');
    assert.match(w.link() ?? '', /<\/whep\/layered\/[\w-]{43}\/layers>; rel="urn:ietf:params:whep:ext:core:layer"/);

    const listed = (await (await fetch(`${api.base}${location}/layers`)).json()) as { layers: { spatialLayer: number; rid: string }[]; preferred: unknown };
    assert.equal(listed.layers.map((l) => [l.spatialLayer, l.rid]), [[0, 'q'], [1, 'h'], [2, 'f']]);
    assert.is(listed.preferred, null, 'auto at first');
    const tooHigh = await fetch(`${api.base}${location}/layers`, { method: 'POST', headers: json, body: '{"spatialLayer": 3}' });
    assert.is(tooHigh.status, 400, 'a layer the broadcast does not have');

    await viewer.getByTestId('player-quality').click();
    const options = await viewer.getByTestId('quality-option').allTextContents();
    assert.is(options.length, 4, options.join(' | '));
    assert.match(options[0]!, /^Auto/);
    assert.match(options.slice(1).join(' '), /High.*Medium.*Low/);

    // the lowest layer: a quarter of the 1280×720 camera
    await viewer.locator('[data-testid="quality-option"][data-quality="0"]').click();
    assert.is(await until(() => videoWidth(viewer), (x) => x === 320, 15_000), 320, 'the lowest layer arrives');
    const chosen = (await (await fetch(`${api.base}${location}/layers`)).json()) as { preferred: { spatialLayer: number } | null };
    assert.is(chosen.preferred?.spatialLayer, 0);

    // and back up: the best layer the publisher sends
    await viewer.getByTestId('player-quality').click();
    assert.is(await viewer.locator('[data-testid="quality-option"][data-quality="0"]').getAttribute('aria-checked'), 'true');
    await viewer.locator('[data-testid="quality-option"][data-quality="2"]').click();
    assert.ok((await until(() => videoWidth(viewer), (x) => x > 320, 15_000)) > 320, 'a higher layer arrives');

    await viewer.getByTestId('player-quality').click();
    await viewer.locator('[data-testid="quality-option"][data-quality="auto"]').click();
    await until(async () => ((await (await fetch(`${api.base}${location}/layers`)).json()) as { preferred: unknown }).preferred, (p) => p === null, 5000);
  }),
);

t('keyboard: m unmutes, k pauses and resumes at the live edge, t toggles theater mode; not while typing in a field', (ctx) =>
  watching(ctx, 'keys', false, async ({ page: viewer }) => {
    const state = () => viewer.evaluate(() => {
      const v = document.querySelector('[data-testid="player-video"]') as HTMLVideoElement;
      return { muted: v.muted, paused: v.paused, theater: document.body.classList.contains('theater') };
    });
    assert.equal(await state(), { muted: true, paused: false, theater: false }, 'starts muted (autoplay) and playing');

    await viewer.locator('body').press('m');
    assert.is((await state()).muted, false, 'm unmutes');
    await viewer.keyboard.press('m');
    assert.is((await state()).muted, true, 'm mutes again');

    await viewer.keyboard.press('k');
    assert.is((await state()).paused, true, 'k pauses');
    await viewer.locator('[data-testid="player-play"][aria-label="Play (k)"]').waitFor({ timeout: 2000 }); // the button says what k does next
    const before = await frames(viewer);
    await viewer.keyboard.press('k');
    assert.is((await state()).paused, false, 'k resumes');
    assert.ok((await until(() => frames(viewer), (n) => n > before + 10, 10_000)) > before + 10, 'frames flow again');

    // the class follows the render (an effect), so read it until it changes
    await viewer.keyboard.press('t');
    assert.is((await until(state, (s) => s.theater, 2000)).theater, true, 't: theater mode');
    await viewer.keyboard.press('t');
    assert.is((await until(state, (s) => !s.theater, 2000)).theater, false, 't again: the default view');

    // typed into the search box, the letters are text, not shortcuts
    await viewer.getByTestId('header-search-input').click();
    await viewer.keyboard.type('mkt');
    assert.equal(await state(), { muted: true, paused: false, theater: false });
    assert.is(await viewer.getByTestId('header-search-input').inputValue(), 'mkt');

    // every control is a labelled button reachable with Tab
    const labels = await viewer.locator('[data-testid="player-controls"] button').evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-label') ?? b.textContent));
    assert.ok(labels.length >= 5 && labels.every((l) => !!l), labels.join(' | '));
  }),
);

const LIVE_PLAYER = { frame: 'player', video: 'player-video' };

t('volume: the slider and ↑/↓ set it and unmute; fullscreen by f, the button and Escape; picture-in-picture by i and the button, a refusal said on the player', (ctx) =>
  watching(ctx, 'controls', false, async ({ page: viewer }) => {
    await checkVolume(viewer, LIVE_PLAYER);
    await checkFullscreen(viewer, LIVE_PLAYER);
    await checkPictureInPicture(viewer, LIVE_PLAYER);
    const before = await frames(viewer);
    assert.ok((await until(() => frames(viewer), (n) => n > before + 10, 10_000)) > before + 10, 'still playing live after all of it');

    // a browser without picture-in-picture: no button for it
    const bare = await ctx.browser.context.newPage();
    try {
      await withoutPictureInPicture(bare);
      await bare.goto(`${ctx.api.base}/c/controls`);
      await bare.locator('[data-testid="player"][data-mode="live"]').waitFor({ timeout: 20_000 });
      await checkNoPictureInPicture(bare, LIVE_PLAYER);
    } finally {
      await bare.close();
    }
  }),
);

t('rewind plays the recording in progress from its start in the same player; Back to live shows WebRTC frames within a second', (ctx) =>
  watching(ctx, 'rewind', false, async ({ page: viewer }) => {
    const { api, owner } = ctx;
    // a few segments into the broadcast, so that its start is behind the live edge
    const vods = async () => (await owner.get('/api/channels/rewind/vods')).body.items as { status: string; playlistUrl: string }[];
    const rec = await until(vods, (items) => items.some((v) => v.status === 'recording'), 10_000);
    const playlist = rec.find((v) => v.status === 'recording')!.playlistUrl;
    await until(async () => (await (await fetch(api.base + playlist)).text()).match(/#EXTINF/g)?.length ?? 0, (n) => n >= 2, 20_000);

    await viewer.getByTestId('player-rewind').click();
    await viewer.locator('[data-testid="player"][data-mode="dvr"]').waitFor();
    await viewer.waitForFunction(() => {
      const v = document.querySelector('[data-testid="player-video"]') as HTMLVideoElement;
      return v.srcObject === null && v.currentTime > 0.2 && !v.paused && v.readyState >= 3;
    });
    const dvr = await viewer.evaluate(() => {
      const v = document.querySelector('[data-testid="player-video"]') as HTMLVideoElement;
      return { time: v.currentTime, src: v.currentSrc, seekableEnd: v.seekable.length ? v.seekable.end(0) : 0 };
    });
    assert.match(dvr.src, /^blob:/, 'hls.js (Media Source) plays the DVR');
    assert.ok(dvr.time < 5, `near the start of the broadcast: ${dvr.time.toFixed(2)} s`);
    assert.ok(dvr.seekableEnd > dvr.time, 'seekable towards the live edge');
    await viewer.getByTestId('player-seek').waitFor();
    assert.match((await viewer.getByTestId('player-time').textContent()) ?? '', /^\d+:\d{2} \/ \d+:\d{2}$/);

    // Back to live: time from the click to the first WebRTC frame presented
    // (a loop, not a named function: tsx would wrap that in a helper the page does not have)
    const ms = await viewer.evaluate(async () => {
      const v = document.querySelector('[data-testid="player-video"]') as HTMLVideoElement;
      const start = performance.now();
      (document.querySelector('[data-testid="back-to-live"]') as HTMLButtonElement).click();
      while (!(v.srcObject instanceof MediaStream)) {
        if (performance.now() - start > 5000) throw new Error('no WebRTC stream in the player');
        await new Promise((r) => requestAnimationFrame(r));
      }
      await new Promise((r) => v.requestVideoFrameCallback(r));
      return performance.now() - start;
    });
    assert.ok(ms <= 1000, `a live frame ${ms.toFixed(0)} ms after Back to live`);
    await viewer.locator('[data-testid="player"][data-mode="live"]').waitFor();
    const before = await frames(viewer);
    assert.ok((await until(() => frames(viewer), (n) => n > before + 10, 10_000)) > before + 10, 'WebRTC frames decoding');
  }),
);

t.run();
