// Uploading through the page in Chromium (/studio/<slug>/upload, tus-js-client against the API's tus endpoint): a
// few seconds of FFmpeg-made video go up with their progress shown and the page then opens the new VoD; a PDF renamed
// .mp4 is refused with the server's reason in words; a reload mid-upload continues from the server's offset when the
// same file is picked again; the owner's My channels links the page. Needs the uploads branch's server (merged).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { until } from '../helpers/webrtc.ts';

type Ctx = { api: TestApi; owner: Client; browser: Browser; dir: string; video: string; big: string; pdf: string };
/** Small chunks (the server's minimum), so a few-MB file takes several PATCHes: an upload to interrupt. */
const CHUNK = 256 * 1024;
const t = suite<Ctx>('uploading a video through the page');

t.before(async (ctx) => {
  ctx.dir = await mkdtemp(path.join(os.tmpdir(), 'glint-upload-web-'));
  ctx.video = path.join(ctx.dir, 'clip.mp4');
  await promisify(execFile)('ffmpeg', [
    '-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', ctx.video,
  ]);
  ctx.big = path.join(ctx.dir, 'bigger.mp4');
  await promisify(execFile)('ffmpeg', [
    '-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '4M', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', ctx.big,
  ]);
  ctx.pdf = path.join(ctx.dir, 'not-a-video.mp4');
  await writeFile(ctx.pdf, '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'.repeat(40));
  ctx.api = await startTestApi({ UPLOAD_CHUNK_BYTES: String(CHUNK) });
  ctx.owner = await ctx.api.client().signUp('Uploader');
  const created = await ctx.owner.post('/api/channels', { slug: 'uploads', title: 'Uploads' });
  assert.is(created.status, 201, created.text);
  ctx.browser = await launchBrowser();
  await ctx.browser.context.addCookies([...ctx.owner.cookies].map(([name, value]) => ({ name, value, url: ctx.api.base })));
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
});

/** The upload page, recording every percentage its progress showed (a small file goes up in one chunk: quickly). */
async function uploadPage(ctx: Ctx): Promise<{ page: Page; errors: string[] }> {
  const page = await ctx.browser.context.newPage();
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __percents: string[] }).__percents = seen;
    new MutationObserver(() => {
      const p = document.querySelector('[data-testid="upload-progress"]')?.getAttribute('data-percent');
      if (p !== null && p !== undefined && seen.at(-1) !== p) seen.push(p);
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-percent'] });
  });
  await page.goto(`${ctx.api.base}/me/channels`);
  await page.getByTestId('upload-link').click();
  await page.getByTestId('upload-page').waitFor();
  return { page, errors };
}

t('a 3 s MP4 goes up with its progress shown, then the page opens the new VoD', async (ctx) => {
  const { page, errors } = await uploadPage(ctx);
  assert.match((await page.getByTestId('upload-page').textContent()) ?? '', /pick the same file to continue/);
  await page.getByTestId('upload-file').setInputFiles(ctx.video);
  assert.is(await page.getByTestId('upload-title').inputValue(), 'clip', 'the title defaults to the file name');
  await page.getByTestId('upload-title').fill('My first upload');
  await page.getByTestId('upload-start').click();
  await page.waitForURL(/\/v\/[0-9a-f-]{36}$/, { timeout: 30_000 });
  const percents = await page.evaluate(() => (window as unknown as { __percents: string[] }).__percents);
  assert.ok(percents.length > 0 && percents.at(-1) === '100', `progress shown: ${percents.join(' → ')}`);
  await page.getByTestId('vod-page').waitFor();
  assert.is(await page.getByTestId('vod-title').textContent(), 'My first upload');
  const id = new URL(page.url()).pathname.split('/').pop()!;
  const row = await ctx.owner.get(`/api/vods/${id}`);
  assert.is(row.status, 200);
  assert.equal(errors, []);
  await page.close();
});

t('the new video\'s page follows its transcode, then plays the ladder and switches to 360p', async (ctx) => {
  const { page, errors } = await uploadPage(ctx);
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  // every rendition's progress bar the VoD page showed, as "name:status" (the page opens it in-app: same document)
  await page.evaluate(() => {
    const seen = new Set<string>();
    (window as unknown as { __renditions: Set<string> }).__renditions = seen;
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('[data-testid="rendition-progress"]')) seen.add(`${el.getAttribute('data-rendition')}:${el.getAttribute('data-status')}`);
    }).observe(document, { subtree: true, childList: true, attributes: true });
  });
  await page.getByTestId('upload-file').setInputFiles(ctx.big);
  await page.getByTestId('upload-start').click();
  await page.waitForURL(/\/v\/[0-9a-f-]{36}$/, { timeout: 30_000 });
  const id = new URL(page.url()).pathname.split('/').pop()!;
  // the embedded API transcodes it (TRANSCODE_IN_API): 240p first, then 360p, the audio-only one and the images
  await page.getByTestId('vod-video').waitFor({ timeout: 60_000 });
  const ladder = await until(async () => (await ctx.owner.get(`/api/vods/${id}`)).body.renditions as { name: string; status: string }[], (r) => r.length > 0 && r.every((x) => x.status === 'ready'), 90_000);
  assert.equal(ladder.map((r) => `${r.name}:${r.status}`), ['240p:ready', '360p:ready', 'audio:ready']);
  const shown = await page.evaluate(() => [...(window as unknown as { __renditions: Set<string> }).__renditions]);
  assert.ok(shown.some((s) => s.startsWith('360p:')), `the page showed the renditions' progress: ${shown.join(', ')}`);
  await page.reload(); // (a player already playing keeps the ladder it loaded; a reload gets all of it)
  await page.getByTestId('player-play').click();
  await page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('[data-testid="vod-video"]')?.currentTime ?? 0) > 0.3, undefined, { timeout: 20_000 });
  await page.getByTestId('player-quality').click();
  const labels = await page.getByTestId('quality-option').allTextContents();
  assert.equal(labels.slice(1), ['360p', '240p'], labels.join(', '));
  // (Auto starts low on a short video: choosing 360p makes hls.js fetch and show that rendition)
  await page.getByTestId('quality-option').filter({ hasText: /^360p$/ }).click();
  await page.waitForFunction(() => document.querySelector<HTMLVideoElement>('[data-testid="vod-video"]')?.videoHeight === 360, undefined, { timeout: 15_000 });
  assert.ok(requests.some((u) => u.includes(`/hls/vod/${id}/360p/`)), 'hls.js fetched the 360p rendition');
  assert.equal(errors, []);
  await page.close();
});

t('a PDF renamed .mp4 is refused with the server\'s reason, in words', async (ctx) => {
  const { page } = await uploadPage(ctx);
  await page.getByTestId('upload-file').setInputFiles(ctx.pdf);
  await page.getByTestId('upload-start').click();
  const refused = page.getByTestId('upload-refused');
  await refused.waitFor();
  const text = (await refused.textContent()) ?? '';
  assert.ok(text.length > 5 && !/HTTP \d{3}/.test(text), `a reason in words: ${text}`);
  assert.match(text, /video|media|stream|format|recogni/i);
  assert.ok(!/\/v\//.test(page.url()), 'stays on the upload page');
  await page.close();
});

t('a reload mid-upload loses nothing: the page lists it, and picking the same file continues from the server\'s offset', async (ctx) => {
  const { size } = await stat(ctx.big);
  assert.ok(size > 4 * CHUNK, `the file spans several chunks (${size} bytes)`);
  const { page } = await uploadPage(ctx);
  const sent: { method: string; offset: number }[] = [];
  // chunks a little slower than loopback, so the reload lands mid-upload
  await page.route('**/api/uploads**', async (route) => {
    const r = route.request();
    sent.push({ method: r.method(), offset: Number(r.headers()['upload-offset'] ?? -1) });
    if (r.method() === 'PATCH') await new Promise((res) => setTimeout(res, 300));
    await route.continue();
  });
  await page.getByTestId('upload-file').setInputFiles(ctx.big);
  await page.getByTestId('upload-start').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="upload-progress"]')?.getAttribute('data-percent') ?? 0) >= 20);
  await page.getByTestId('upload-speed').waitFor();
  assert.match((await page.getByTestId('upload-left').textContent()) ?? '', /\d+ s left|min/);
  await page.reload();
  await page.getByTestId('upload-page').waitFor();
  await page.locator('[data-testid="recent-upload"][data-status="uploading"]').getByText('pick the same file to continue').waitFor();
  sent.length = 0;
  await page.getByTestId('upload-file').setInputFiles(ctx.big);
  await page.getByTestId('upload-start').click();
  await page.getByTestId('upload-resumed').waitFor();
  await page.waitForURL(/\/v\/[0-9a-f-]{36}$/, { timeout: 30_000 });
  assert.ok(!sent.some((r) => r.method === 'POST'), 'no new upload was created');
  const firstPatch = sent.find((r) => r.method === 'PATCH');
  assert.ok(firstPatch && firstPatch.offset >= CHUNK, `continued from ${firstPatch?.offset}, not from 0`);
  await page.close();
});

t.run();
