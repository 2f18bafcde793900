// The catalog in Chromium: a visitor browses /videos, filters it (the filter lands in the URL), opens a video, sees
// its description and chapters and clicks a chapter, which seeks the player there; the owner edits the video's title
// and visibility in the page's form, and an unlisted video leaves the catalog.
import { mkdir } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { ffmpegVodFiles, seedVod } from '../helpers/vod-seed.ts';

const SHOTS = process.env.GLINT_SHOTS_DIR ?? '/tmp/glint-shots/videos';
type Ctx = { api: TestApi; owner: Client; browser: Browser; ownerBrowser: Browser; music: string; talk: string; errors: string[] };
const t = suite<Ctx>('videos in the web app');

t.before(async (ctx) => {
  await mkdir(SHOTS, { recursive: true });
  ctx.errors = [];
  ctx.api = await startTestApi();
  await ctx.api.client().signUp('Site Admin'); // the instance's admin, so the owner is a plain user
  ctx.owner = await ctx.api.client().signUp('Vera Video');
  const files = await ffmpegVodFiles();
  ctx.music = await seedVod(ctx.api, ctx.owner, 'vera-videos', {
    files,
    details: {
      title: 'Sine waves at dusk',
      source: 'upload',
      durationMs: 6000,
      category: 'Music',
      language: 'fr',
      description: 'Forty-four hertz of calm.',
      chapters: [{ startSeconds: 0, title: 'Start' }, { startSeconds: 4, title: 'The end part' }],
      startedAt: new Date(Date.now() - 60_000),
    },
  });
  ctx.talk = await seedVod(ctx.api, ctx.owner, 'vera-videos', { files, details: { title: 'A talk about nothing', durationMs: 6000, category: 'Talk', language: 'en' } });
  ctx.browser = await launchBrowser();
  ctx.ownerBrowser = await launchBrowser();
  await ctx.ownerBrowser.context.addCookies([...ctx.owner.cookies].map(([name, value]) => ({ name, value, url: ctx.api.base })));
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.ownerBrowser?.close();
  await ctx.api?.stop();
});

async function open(ctx: Ctx, browser: Browser, path: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => ctx.errors.push(String(e)));
  await page.goto(ctx.api.base + path);
  return page;
}
const cardTitles = (page: Page) => page.getByTestId('video-card-title').allInnerTexts();

t('a visitor browses /videos, filters by language, opens a video and seeks by its chapters', async (ctx) => {
  const page = await open(ctx, ctx.browser, '/');
  await page.getByTestId('nav-videos').click();
  await page.getByTestId('videos-grid').waitFor();
  assert.equal((await cardTitles(page)).sort(), ['A talk about nothing', 'Sine waves at dusk']);
  assert.equal(await page.getByTestId('video-card').first().locator('.video-length').innerText(), '0:06');
  // these videos have no poster or thumbnails: each card shows the tinted placeholder with its initials, not a black box
  assert.equal((await page.getByTestId('vod-picture-blank').allInnerTexts()).sort(), ['AT', 'SW']);

  await page.getByTestId('videos-language').selectOption('fr');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="video-card"]').length === 1);
  assert.equal(await cardTitles(page), ['Sine waves at dusk']);
  assert.match(page.url(), /[?&]language=fr\b/);
  await page.getByTestId('videos-sort-views').click();
  assert.match(page.url(), /[?&]sort=views\b/);
  await page.screenshot({ path: `${SHOTS}/videos.png` });

  await page.getByTestId('video-card-title').first().click();
  await page.getByTestId('vod-page').waitFor();
  assert.is(await page.getByTestId('vod-title').innerText(), 'Sine waves at dusk');
  assert.is(await page.getByTestId('vod-description').innerText(), 'Forty-four hertz of calm.');
  assert.equal(await page.getByTestId('vod-chapter').allInnerTexts(), ['0:00 Start', '0:04 The end part']);
  // the player has loaded the playlist before the seek
  await page.waitForFunction(() => ((document.querySelector('[data-testid="vod-video"]') as HTMLVideoElement | null)?.readyState ?? 0) >= 1);
  await page.getByTestId('vod-chapter').nth(1).click();
  await page.waitForFunction(() => ((document.querySelector('[data-testid="vod-video"]') as HTMLVideoElement).currentTime ?? 0) >= 3.9);
  // related: the other video of the channel
  await page.getByTestId('related-videos').waitFor();
  assert.equal(await page.getByTestId('related-videos').getByTestId('video-card-title').allInnerTexts(), ['A talk about nothing']);
  assert.is(await page.getByTestId('vod-editor').count(), 0, 'no edit form for a visitor');
  await page.close();
});

t('the owner edits the title and visibility in the page; an unlisted video leaves the catalog', async (ctx) => {
  const page = await open(ctx, ctx.ownerBrowser, `/v/${ctx.talk}`);
  await page.getByTestId('vod-editor').locator('summary').click();
  await page.getByTestId('edit-title').fill('A talk about something');
  await page.getByTestId('edit-visibility').selectOption('unlisted');
  await page.getByTestId('edit-chapters').fill('0:00 Opening\n0:03 Closing');
  await page.getByTestId('edit-save').click();
  await page.getByTestId('edit-saved').waitFor();
  assert.is(await page.getByTestId('vod-title').innerText(), 'A talk about something');
  await page.getByTestId('vod-visibility').waitFor();
  const saved = await ctx.owner.get(`/api/vods/${ctx.talk}`);
  assert.is(saved.body.visibility, 'unlisted');
  assert.equal(saved.body.chapters, [{ startSeconds: 0, title: 'Opening' }, { startSeconds: 3, title: 'Closing' }]);

  // a refusal shows next to its field, and nothing is saved
  await page.getByTestId('edit-chapters').fill('0:05 Not at the start');
  await page.getByTestId('edit-save').click();
  await page.getByTestId('error-chapters').waitFor();
  await page.screenshot({ path: `${SHOTS}/vod-editor.png`, fullPage: true });
  assert.equal((await ctx.owner.get(`/api/vods/${ctx.talk}`)).body.chapters.length, 2);
  await page.close();

  const visitor = await open(ctx, ctx.browser, '/videos');
  await visitor.getByTestId('videos-grid').waitFor();
  assert.equal(await cardTitles(visitor), ['Sine waves at dusk'], 'the unlisted one is gone');
  await visitor.goto(`${ctx.api.base}/v/${ctx.talk}`);
  await visitor.getByTestId('vod-page').waitFor();
  assert.is(await visitor.getByTestId('vod-title').innerText(), 'A talk about something', 'still playable by its link');
  await visitor.close();
});

t('no page errors', (ctx) => {
  assert.equal(ctx.errors, []);
});

t.run();
