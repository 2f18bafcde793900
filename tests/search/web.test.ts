// @runtime-matrix
// Search in the web app, in real Chromium against the real API: the header's instant results, the results page with
// its filters, browsing by category.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { vod } from '../../shared/db/index.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';

type Ctx = { api: TestApi; browser: Browser; page: Page; errors: string[]; searches: string[] };
const t = suite<Ctx>('search in the web app');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  const owner = await ctx.api.client().signUp('Owner');
  for (const [slug, title, category] of [
    ['owl-radio', 'Night Owl Radio', 'Music'],
    ['owl-kitchen', 'Owl kitchen', 'Cooking'],
    ['jazz-cellar', 'Jazz cellar stream', 'Music'],
  ]) {
    const r = await owner.post('/api/channels', { slug, title, category });
    if (r.status !== 201) throw new Error(r.text);
    if (slug === 'owl-radio') {
      const id = randomUUID();
      await ctx.api.deps.database.db.insert(vod).values({ id, channelId: r.body.id, title: 'Owl radio, the first night', status: 'ready', storagePrefix: `vods/${id}` });
    }
  }
  ctx.browser = await launchBrowser();
  ctx.page = await ctx.browser.context.newPage();
  ctx.page.setDefaultTimeout(10_000);
  ctx.errors = [];
  ctx.searches = [];
  ctx.page.on('pageerror', (e) => ctx.errors.push(String(e)));
  ctx.page.on('request', (r) => {
    if (r.url().includes('/api/search')) ctx.searches.push(r.url());
  });
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
});

t('typing in the header shows instant results, debounced; arrows and Enter open one', async ({ api, page, searches }) => {
  await page.goto(api.base + '/');
  const input = page.getByTestId('header-search-input');
  searches.length = 0;
  await input.pressSequentially('nigt owl', { delay: 30 }); // a typo, typed quickly
  const options = page.getByTestId('search-option');
  await options.first().waitFor();
  assert.ok(searches.length <= 3, `typing 8 letters quickly sent ${searches.length} requests, not one per key`);
  const titles = await options.locator('.search-option-title').allTextContents();
  assert.is(titles[0], 'Night Owl Radio', 'the typo still finds it, first');
  assert.ok(titles.includes('Owl radio, the first night'), 'VoDs are among the results');
  assert.match((await page.getByTestId('search-all').textContent())!, /All \d+ results/);
  await input.press('ArrowDown');
  assert.is(await page.locator('[role="option"][aria-selected="true"]').count(), 1);
  await input.press('Enter');
  await page.waitForURL('**/c/owl-radio');
  assert.is(await page.getByTestId('search-instant').count(), 0, 'the panel closes on navigation');
});

t('Enter without a highlighted hit opens the results page; its filters narrow the results and stay in the URL', async ({ api, page }) => {
  await page.goto(api.base + '/');
  const input = page.getByTestId('header-search-input');
  await input.fill('owl');
  await page.getByTestId('search-option').first().waitFor();
  await input.press('Enter');
  await page.waitForURL('**/search?q=owl');
  const hits = page.getByTestId('search-hit');
  await hits.first().waitFor();
  assert.is(await hits.count(), 3, 'two channels and a video');
  assert.match((await page.getByTestId('search-count').textContent())!, /3 results/);

  await page.getByTestId('filter-type-vod').click();
  await page.waitForURL('**/search?q=owl&type=vod');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="search-hit"]').length === 1);
  assert.is(await hits.first().getAttribute('data-kind'), 'vod');

  await page.getByTestId('filter-type-all').click();
  await page.getByTestId('filter-category').selectOption('Cooking');
  await page.waitForURL(/category=Cooking/);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="search-hit"]').length === 1);
  assert.is(await page.getByTestId('search-hit-title').textContent(), 'Owl kitchen');

  await page.goto(api.base + '/search?q=zzzzzz');
  await page.getByTestId('search-empty').waitFor();
});

t('the home box and the header box are one search: the same results for a typo, the same results page', async ({ api, page }) => {
  const instant = async (box: string, input: string) => {
    await page.goto(api.base + '/');
    const form = page.getByTestId(box);
    await form.getByTestId(input).fill('nigt owl'); // a typo
    await form.getByTestId('search-option').first().waitFor();
    return form.locator('.search-option-title').allTextContents();
  };
  const header = await instant('header-search', 'header-search-input');
  const home = await instant('search-form', 'search-input');
  assert.is(header[0], 'Night Owl Radio', 'the typo finds it from the header');
  assert.equal(home, header, 'and the same hits, in the same order, from the home page');
  await page.getByTestId('search-input').press('Enter');
  await page.waitForURL('**/search?q=nigt%20owl');
  await page.getByTestId('search-hit').first().waitFor();
  assert.is(await page.getByTestId('search-hit-title').first().textContent(), 'Night Owl Radio', 'Enter opens the one results page');
  await page.goto(api.base + '/?q=kitchen');
  await page.waitForURL('**/search?q=kitchen');
  await page.getByTestId('search-hit').first().waitFor();
  assert.equal(await page.getByTestId('search-hit-title').allTextContents(), ['Owl kitchen'], 'an old home search link opens it too');
});

t('Browse lists categories; one opens its channels', async ({ api, page }) => {
  await page.goto(api.base + '/');
  await page.getByTestId('nav-categories').click();
  await page.waitForURL('**/categories');
  const cats = page.getByTestId('category');
  await cats.first().waitFor();
  assert.equal((await cats.locator('.category-name').allTextContents()).sort(), ['Cooking', 'Music']);
  await cats.filter({ hasText: 'Music' }).click();
  await page.waitForURL('**/search?category=Music');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="search-hit"]').length === 3);
  const titles = await page.getByTestId('search-hit-title').allTextContents();
  assert.equal(titles.sort(), ['Jazz cellar stream', 'Night Owl Radio', 'Owl radio, the first night']);
});

t('no page errors', ({ errors }) => {
  assert.equal(errors, []);
});

t.run();
