// Uploading through the page in Chromium (/studio/<slug>/upload, tus-js-client against the API's tus endpoint): a
// few seconds of FFmpeg-made video go up with their progress shown and the page then opens the new VoD; a PDF renamed
// .mp4 is refused with the server's reason in words; the owner's My channels links the page. Needs the uploads
// branch's server (/api/uploads).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';

type Ctx = { api: TestApi; owner: Client; browser: Browser; dir: string; video: string; pdf: string };
const t = suite<Ctx>('uploading a video through the page');

t.before(async (ctx) => {
  ctx.dir = await mkdtemp(path.join(os.tmpdir(), 'glint-upload-web-'));
  ctx.video = path.join(ctx.dir, 'clip.mp4');
  await promisify(execFile)('ffmpeg', [
    '-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', ctx.video,
  ]);
  ctx.pdf = path.join(ctx.dir, 'not-a-video.mp4');
  await writeFile(ctx.pdf, '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'.repeat(40));
  ctx.api = await startTestApi();
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

t.run();
