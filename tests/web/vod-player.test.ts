// The VoD player in Chromium on a real ladder (tests/helpers/vod-ladder-seed.ts: FFmpeg's 360p + 240p fMP4 HLS, a
// master playlist, a storyboard): it plays the master playlist through hls.js, its quality menu lists Auto and both
// renditions and switching to 240p loads and shows 240p, the storyboard's tile previews the seek bar, the keyboard
// shortcuts move the playhead, volume, fullscreen and picture-in-picture work as on the live player
// (tests/helpers/player-controls.ts), a signed-in viewer is offered their position back after a reload, the browser's own
// HLS plays it when Media Source Extensions are missing, and the page follows a transcode live (vod:progress) and
// starts the player without a reload once the first rendition is ready.
import { mkdir } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { eq } from 'drizzle-orm';
import { vod } from '../../shared/db/index.ts';
import { CONTENT_TYPES, vodPrefix } from '../../shared/media.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import type { Rendition } from '../../shared/vod-ladder.ts';
import { ladderFiles, LADDER_ROW, LADDER_SECONDS, TILE } from '../helpers/vod-ladder-seed.ts';
import { seedVod, type VodFiles } from '../helpers/vod-seed.ts';
import { checkFullscreen, checkNoPictureInPicture, checkPictureInPicture, checkVolume, withoutPictureInPicture } from '../helpers/player-controls.ts';

const SHOTS = process.env.GLINT_SHOTS_DIR ?? '/tmp/glint-shots/vod-player';
type Ctx = { api: TestApi; owner: Client; viewer: Client; browser: Browser; files: VodFiles; vodId: string };
const t = suite<Ctx>('the VoD player on an adaptive ladder');

t.before(async (ctx) => {
  await mkdir(SHOTS, { recursive: true });
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Ladder Owner');
  ctx.viewer = await ctx.api.client().signUp('Ladder Viewer');
  ctx.files = await ladderFiles();
  ctx.vodId = await seedVod(ctx.api, ctx.owner, 'ladder', { files: ctx.files, details: LADDER_ROW });
  // a title unlike the address, so the page is seen to name the channel by its title
  assert.is((await ctx.owner.patch('/api/channels/ladder', { title: 'Ladder Lab' })).status, 200);
  ctx.browser = await launchBrowser();
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
});

async function open(ctx: Ctx, opts: { signedIn?: boolean; vodId?: string; init?: () => void; prepare?: (page: Page) => Promise<void>; waitFor?: string } = {}): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  await ctx.browser.context.clearCookies();
  if (opts.signedIn) await ctx.browser.context.addCookies([...ctx.viewer.cookies].map(([name, value]) => ({ name, value, url: ctx.api.base })));
  const page = await ctx.browser.context.newPage();
  page.setDefaultTimeout(15_000);
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(String(e)));
  if (opts.init) await page.addInitScript(opts.init);
  await opts.prepare?.(page);
  await page.goto(`${ctx.api.base}/v/${opts.vodId ?? ctx.vodId}`);
  await page.getByTestId(opts.waitFor ?? 'vod-player').waitFor();
  return { page, requests, errors };
}

const currentTime = (page: Page) => page.getByTestId('vod-video').evaluate((v: HTMLVideoElement) => v.currentTime);
/** Waits until the video has its duration and something buffered to seek in. */
const loaded = (page: Page) => page.waitForFunction(() => {
  const v = document.querySelector<HTMLVideoElement>('[data-testid="vod-video"]');
  return !!v && Number.isFinite(v.duration) && v.duration > 0 && v.seekable.length > 0 && v.readyState >= 2;
});

t('GET /api/vods/{id} names the master playlist and the storyboard; /hls serves the nested ladder files', async ({ api, owner, vodId }) => {
  const res = await owner.get(`/api/vods/${vodId}`);
  assert.is(res.status, 200);
  assert.is(res.body.masterPlaylistUrl, `/hls/vod/${vodId}/master.m3u8`);
  assert.equal(res.body.storyboard, { imageUrl: `/hls/vod/${vodId}/storyboard.jpg`, vttUrl: `/hls/vod/${vodId}/storyboard.vtt` });
  const master = await fetch(`${api.base}/hls/vod/${vodId}/master.m3u8`);
  assert.is(master.status, 200);
  assert.match(await master.text(), /RESOLUTION=426x240,CODECS="avc1/);
  const init = await fetch(`${api.base}/hls/vod/${vodId}/240p/init.mp4`);
  assert.is(init.status, 200);
  assert.is(init.headers.get('content-type'), 'video/mp4');
  assert.is((await fetch(`${api.base}/hls/vod/${vodId}/240p/../index.m3u8`)).status, 404, 'no path outside the allow-list');
  assert.is((await fetch(`${api.base}/hls/vod/${vodId}/999p/index.m3u8`)).status, 404);
});

t('the ladder plays through hls.js; the quality menu lists Auto, 360p and 240p, and choosing 240p loads and shows it', async (ctx) => {
  const { page, requests, errors } = await open(ctx);
  await page.getByTestId('player-play').click();
  await page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('[data-testid="vod-video"]')?.currentTime ?? 0) > 0.5);
  assert.is(await page.getByTestId('vod-player').getAttribute('data-engine'), 'hls.js');
  // the line under the title names the channel as people know it, and a length not stored yet leaves no dangling '·'
  assert.is(await page.getByTestId('vod-channel').innerText(), 'Ladder Lab');
  assert.not.match((await page.getByTestId('vod-channel').locator('..').innerText()).trim(), /·$/);
  assert.ok(requests.some((u) => u.endsWith(`/hls/vod/${ctx.vodId}/master.m3u8`)), 'played the master playlist');
  await page.getByTestId('player-quality').click();
  const labels = await page.getByTestId('quality-option').allTextContents();
  await page.screenshot({ path: `${SHOTS}/quality-menu.png` });
  assert.is(labels.length, 3, labels.join(', '));
  assert.match(labels[0]!, /^Auto/);
  assert.equal(labels.slice(1), ['360p', '240p']);
  assert.is(await page.getByTestId('quality-option').first().getAttribute('aria-checked'), 'true', 'Auto is the one marked');
  const before = requests.length;
  await page.getByTestId('quality-option').filter({ hasText: '240p' }).click();
  await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('[data-testid="vod-video"]')?.videoHeight === 240, undefined, { timeout: 15_000 });
  assert.ok(requests.slice(before).some((u) => /\/240p\/(init\.mp4|seg-\d{5}\.m4s)/.test(u)), 'hls.js fetched the 240p rendition');
  await page.getByTestId('player-quality').click();
  assert.is(await page.locator('[data-testid="quality-option"][aria-checked="true"]').textContent(), '240p', 'the chosen level is marked');
  assert.equal(errors, []);
  await page.close();
});

t('hovering the seek bar shows the storyboard tile of that moment and its time', async (ctx) => {
  const { page } = await open(ctx);
  await loaded(page);
  const bar = await page.getByTestId('player-seek').boundingBox();
  assert.ok(bar);
  // 35 % of 10 s: 3.5 s, the fourth tile (second row, first column of a 3-wide sprite)
  await page.mouse.move(bar.x + bar.width * 0.35, bar.y + bar.height / 2);
  const tile = page.getByTestId('storyboard-tile');
  await tile.waitFor();
  assert.is(await tile.getAttribute('data-xywh'), `0,${TILE.h},${TILE.w},${TILE.h}`);
  assert.match((await tile.evaluate((el) => getComputedStyle(el).backgroundImage)) ?? '', /storyboard\.jpg/);
  assert.is(await page.getByTestId('seek-preview').locator('.player-preview-time').textContent(), '0:03');
  await page.screenshot({ path: `${SHOTS}/storyboard.png` });
  await page.mouse.move(bar.x + bar.width * 0.75, bar.y + bar.height / 2);
  await page.waitForFunction(() => document.querySelector('[data-testid="storyboard-tile"]')?.getAttribute('data-xywh') === '160,180,160,90'); // 7.5 s: the eighth tile, third row
  await page.mouse.move(bar.x + bar.width / 2, bar.y - 200);
  await page.getByTestId('seek-preview').waitFor({ state: 'detached' });
  await page.close();
});

t('keyboard: 0–9 jump to n × 10 %, arrows ±5 s, j/l ±10 s, k plays, ? lists the shortcuts', async (ctx) => {
  const { page } = await open(ctx);
  await loaded(page);
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  const near = async (want: number, what: string) => {
    await page.waitForFunction((w) => Math.abs((document.querySelector<HTMLVideoElement>('[data-testid="vod-video"]')?.currentTime ?? -99) - w) < 0.3, want).catch(() => undefined);
    const got = await currentTime(page);
    assert.ok(Math.abs(got - want) < 0.3, `${what}: at ${got}, want ${want}`);
  };
  await page.keyboard.press('5');
  await near(LADDER_SECONDS * 0.5, '5 → 50 %');
  await page.keyboard.press('ArrowLeft');
  await near(LADDER_SECONDS * 0.5 - 5, '← → −5 s');
  await page.keyboard.press('ArrowRight');
  await near(LADDER_SECONDS * 0.5, '→ → +5 s');
  await page.keyboard.press('j');
  await near(0, 'j → −10 s (clamped at the start)');
  await page.keyboard.press('2');
  await near(LADDER_SECONDS * 0.2, '2 → 20 %');
  await page.keyboard.press('l');
  await near(Math.min(LADDER_SECONDS, LADDER_SECONDS * 0.2 + 10), 'l → +10 s');
  await page.keyboard.press('0');
  await near(0, '0 → the start');
  await page.keyboard.press('k');
  await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('[data-testid="vod-video"]')?.paused === false);
  await page.keyboard.press('k');
  await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('[data-testid="vod-video"]')?.paused === true);
  await page.keyboard.press('Shift+?');
  await page.getByTestId('player-shortcuts').getByText('Back / forward 10 s').waitFor();
  await page.screenshot({ path: `${SHOTS}/shortcuts.png` });
  assert.match((await page.getByTestId('player-play').getAttribute('title')) ?? '', /space, k/);
  // typing in a field is not a shortcut
  await page.keyboard.press('Escape');
  await page.getByTestId('player-shortcuts').waitFor({ state: 'detached' });
  await page.close();
});

const VOD_PLAYER = { frame: 'vod-player', video: 'vod-video' };

t('volume: the slider and ↑/↓ set it and unmute; fullscreen by f, the button and Escape; picture-in-picture by i and the button, a refusal said on the player', async (ctx) => {
  const { page, errors } = await open(ctx);
  await loaded(page);
  await checkVolume(page, VOD_PLAYER);
  await checkFullscreen(page, VOD_PLAYER);
  await checkPictureInPicture(page, VOD_PLAYER);
  assert.equal(errors, []);
  await page.close();
  const bare = await open(ctx, { prepare: withoutPictureInPicture });
  await loaded(bare.page);
  await checkNoPictureInPicture(bare.page, VOD_PLAYER);
  await bare.page.close();
});

t('a signed-in viewer is offered their position back after a reload (PUT on pause), and "Start over" rewinds', async (ctx) => {
  const { page } = await open(ctx, { signedIn: true });
  await loaded(page);
  await page.getByTestId('vod-video').evaluate(async (v: HTMLVideoElement) => {
    v.muted = true;
    await v.play();
    v.currentTime = 7;
  });
  await page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('[data-testid="vod-video"]')?.currentTime ?? 0) >= 7);
  await page.getByTestId('vod-video').evaluate((v: HTMLVideoElement) => v.pause());
  let saved: number | null = null;
  for (let i = 0; i < 50 && !(saved && saved >= 7); i++) {
    saved = (await ctx.viewer.get(`/api/vods/${ctx.vodId}/position`)).body?.positionSeconds ?? null;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(saved !== null && saved >= 7 && saved < 8, `PUT on pause remembered ${saved}`);
  await page.reload();
  await page.getByTestId('resume-note').waitFor();
  await page.screenshot({ path: `${SHOTS}/resume.png` });
  assert.match((await page.getByTestId('resume-note').textContent()) ?? '', /Resumed from 0:0[78]/);
  assert.ok(Math.abs((await currentTime(page)) - saved!) < 0.5, 'playback starts where they stopped');
  await page.getByTestId('resume-start-over').click();
  assert.ok((await currentTime(page)) < 0.5, 'Start over rewinds');
  // signed out: no position is asked for, none offered
  assert.is((await ctx.api.client().get(`/api/vods/${ctx.vodId}/position`)).status, 401);
  await page.close();
  const anon = await open(ctx);
  await loaded(anon.page);
  assert.is(await anon.page.getByTestId('resume-note').count(), 0);
  assert.ok(!anon.requests.some((u) => u.includes('/position')), 'a signed-out player asks for no position');
  await anon.page.close();
});

t('without Media Source Extensions the browser\'s own HLS gets the master playlist', async (ctx) => {
  const { page, requests } = await open(ctx, {
    init: () => {
      // Chromium plays HLS natively only behind a flag: stand in for Safari (a browser with native HLS and no MSE)
      for (const name of ['MediaSource', 'ManagedMediaSource', 'WebKitMediaSource']) delete (window as unknown as Record<string, unknown>)[name];
      const canPlay = HTMLMediaElement.prototype.canPlayType;
      HTMLMediaElement.prototype.canPlayType = function (type: string) {
        return type === 'application/vnd.apple.mpegurl' ? 'maybe' : canPlay.call(this, type);
      };
    },
  });
  await page.waitForFunction(() => document.querySelector('[data-testid="vod-player"]')?.getAttribute('data-engine') === 'native');
  const src = await page.getByTestId('vod-video').evaluate((v: HTMLVideoElement) => v.src);
  assert.is(new URL(src).pathname, `/hls/vod/${ctx.vodId}/master.m3u8`);
  assert.ok(requests.some((u) => u.includes('/assets/hls.min.js')), 'hls.js was asked first (and said no)');
  await page.close();
});

t('the page follows a transcode over vod:progress and starts the player when the first rendition is ready', async (ctx) => {
  const { api, owner } = ctx;
  // an upload being transcoded: no master playlist yet (the renditions' files arrive as they finish)
  const files = Object.fromEntries(Object.entries(ctx.files).filter(([k]) => k !== 'master.m3u8'));
  const id = await seedVod(api, owner, 'ladder', { files });
  await api.deps.database.db.update(vod).set({ status: 'processing' as never }).where(eq(vod.id, id));
  const { page } = await open(ctx, { vodId: id, waitFor: 'vod-processing' });
  const rendition = (name: '240p' | '360p', height: number, status: 'queued' | 'running' | 'ready', progress: number): Rendition => ({ ...LADDER_ROW.renditions.find((r) => r.name === name)!, height, status, progress });
  const [row] = await api.deps.database.db.select({ channelId: vod.channelId }).from(vod).where(eq(vod.id, id));
  // what the transcoder does: its row, then the bus event the API relays to the VoD's watchers (vod:watch)
  const progress = async (vodId: string, renditions: Rendition[]) => {
    if (vodId === id) await api.deps.database.db.update(vod).set({ renditions }).where(eq(vod.id, id));
    await api.deps.bus.publish('vod.progress', { vodId, channelId: row!.channelId, status: 'processing', renditions });
  };
  await new Promise((r) => setTimeout(r, 500)); // the page's socket connects and sends vod:watch
  await progress(crypto.randomUUID(), [rendition('240p', 240, 'ready', 1)]); // another VoD's: not this page's
  await progress(id, [rendition('360p', 360, 'queued', 0), rendition('240p', 240, 'running', 0.5)]);
  await page.locator('[data-testid="rendition-progress"][data-rendition="240p"]').getByText('50 %').waitFor();
  await page.screenshot({ path: `${SHOTS}/transcode-progress.png` });
  assert.is(await page.getByTestId('vod-processing').count(), 1, 'nothing to play yet');
  await api.deps.store.put(`${vodPrefix(id)}master.m3u8`, ctx.files['master.m3u8']!, CONTENT_TYPES.m3u8!);
  await progress(id, [rendition('360p', 360, 'running', 0.1), rendition('240p', 240, 'ready', 1)]);
  await page.getByTestId('vod-video').waitFor();
  await page.locator('[data-testid="rendition-progress"][data-rendition="240p"][data-status="ready"]').waitFor();
  await page.getByTestId('player-play').click();
  await page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('[data-testid="vod-video"]')?.currentTime ?? 0) > 0.3);
  await page.close();
});

t.run();
