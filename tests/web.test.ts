// The web app in real Chromium against the real API: what a new streamer does first.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { startTestApi, type TestApi } from './helpers/api.ts';
import { launchBrowser, type Browser } from './helpers/browser.ts';
import { verifyStreamKey } from '../shared/stream-keys.ts';

type Ctx = { api: TestApi; browser: Browser; page: Page; errors: string[] };

/** The onboarding steps as "state: title". */
const steps = async (page: Page) =>
  page.getByTestId('onboarding-step').evaluateAll((els) => els.map((el) => `${el.getAttribute('data-state')}: ${el.querySelector('strong')?.textContent}`));
const t = suite<Ctx>('web app in Chromium');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.browser = await launchBrowser();
  ctx.page = await ctx.browser.context.newPage();
  ctx.page.setDefaultTimeout(10_000);
  ctx.errors = [];
  ctx.page.on('pageerror', (e) => ctx.errors.push(String(e)));
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
});

t('a visitor signs up, creates a channel and gets a stream key shown once', async ({ api, page }) => {
  await page.goto(api.base + '/sign-up');
  const form = page.getByTestId('sign-up-form');
  await form.getByTestId('input-name').fill('Stella Streamer');
  await form.getByTestId('input-email').fill('stella@example.test');
  await form.getByTestId('input-password').fill('stella password');
  await form.getByTestId('sign-up-submit').click();
  const badge = page.getByTestId('user-menu').getByTestId('role-badge');
  await badge.waitFor();
  assert.is((await badge.textContent())?.trim().toLowerCase(), 'admin', 'first account is admin');

  await page.getByTestId('nav-my-channels').click();
  // with no channels yet the create form is already open; otherwise "New channel" opens it
  await page.locator('[data-testid="create-channel-form"], [data-testid="new-channel"]').first().waitFor();
  if ((await page.getByTestId('create-channel-form').count()) === 0) await page.getByTestId('new-channel').click();
  assert.equal(await steps(page), ['current: Create a channel', 'todo: Get a stream key', 'todo: Go live'], 'a new streamer sees the three steps, the first highlighted');
  const create = page.getByTestId('create-channel-form');
  assert.ok(!/\bslug\b/i.test((await create.textContent()) ?? ''), 'the form says "address", not "slug"');
  await create.getByTestId('create-title').fill('Stella Live');
  assert.is(await create.getByTestId('create-slug').inputValue(), 'stella-live', 'the address is suggested from the title');
  await create.getByTestId('create-category').fill('Music');
  await create.getByTestId('create-description').fill('<img src=x onerror="window.__xss=1"> plain text');
  await create.getByTestId('create-channel-submit').click();
  const mine = page.locator('[data-testid="my-channel"][data-slug="stella-live"]');
  await mine.waitFor();
  if ((await mine.getByTestId('stream-keys').count()) === 0) await mine.getByTestId('manage-toggle').click();
  assert.equal(await steps(page), ['done: Create a channel', 'current: Get a stream key', 'todo: Go live']);
  // next to the keys: where to go live with one
  const goLive = mine.getByTestId('go-live');
  assert.is(await goLive.getByTestId('open-studio').getAttribute('href'), '/studio/stella-live');
  const rtmp = await goLive.getByTestId('rtmp-server').inputValue();
  assert.match(rtmp, /^rtmp:\/\/[^/]+:\d+\/live$/, 'the RTMP server, as the studio shows it');
  assert.is(rtmp, (await api.client().get('/api/ingest')).body.rtmp, 'from the one source the studio reads');

  await mine.getByTestId('stream-key-label').fill('OBS at home');
  await mine.getByTestId('stream-key-create').click();
  const reveal = mine.getByTestId('key-reveal');
  await reveal.waitFor();
  const key = await reveal.getByTestId('key-reveal-value').inputValue();
  assert.match(key, /^glint_/);
  assert.is((await verifyStreamKey(api.deps.database.db, key))?.slug, 'stella-live', 'the key shown is the one the server accepts');
  assert.is(await reveal.getByTestId('key-reveal-server').inputValue(), rtmp, 'the server beside the new key');
  assert.is(await reveal.getByTestId('key-reveal-rtmp-url').inputValue(), `${rtmp}/${key}`, 'and both in one URL');
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await reveal.getByTestId('key-reveal-server-copy').click();
  assert.is(await page.evaluate(() => navigator.clipboard.readText()), rtmp, 'Copy puts the server on the clipboard');
  await page.locator('[data-testid="onboarding-step"][data-state="current"]', { hasText: 'Go live' }).waitFor();
  assert.equal(await steps(page), ['done: Create a channel', 'done: Get a stream key', 'current: Go live']);
  assert.is(await page.getByTestId('onboarding-studio').getAttribute('href'), '/studio/stella-live', 'the last step opens the studio');
  await reveal.getByTestId('key-reveal-dismiss').click();
  await reveal.waitFor({ state: 'detached' });
  assert.ok(!(await page.content()).includes(key), 'once dismissed, the key is gone from the page');
  assert.match((await mine.getByTestId('stream-key-row-label').first().textContent()) ?? '', /OBS at home/);
});

t('a taken address is refused in words a streamer knows', async ({ page }) => {
  await page.getByTestId('new-channel').click();
  const create = page.getByTestId('create-channel-form');
  await create.getByTestId('create-title').fill('Stella Live');
  await create.getByTestId('create-channel-submit').click();
  const error = create.getByTestId('error-slug');
  await error.waitFor();
  assert.match((await error.textContent()) ?? '', /address "stella-live" is taken/i);
  assert.ok(!/slug/i.test((await page.getByTestId('create-channel-form').textContent()) ?? ''), 'no "slug" anywhere in the form');
  await create.getByTestId('create-channel-cancel').click();
  await page.reload();
  await page.getByTestId('stream-key-row').first().waitFor();
  assert.is(await page.getByTestId('onboarding').count(), 0, 'with a channel and a key, the steps are gone');
});

t('the home page lists the channel and its page shows user text as text', async ({ api, page }) => {
  await page.goto(api.base + '/');
  const card = page.locator('[data-testid="channel-card"][data-slug="stella-live"]');
  await card.waitFor();
  assert.match((await card.getByTestId('channel-card-title').textContent()) ?? '', /Stella Live/);
  await card.getByTestId('channel-card-title').click();
  await page.getByTestId('channel-page').waitFor();
  assert.is(new URL(page.url()).pathname, '/c/stella-live');
  assert.match((await page.getByTestId('channel-description').textContent()) ?? '', /<img src=x onerror=/);
  assert.is(await page.evaluate(() => (window as any).__xss), undefined, 'no HTML injection');
  assert.match((await page.getByTestId('player-status').textContent()) ?? '', /offline/i);
});

t('signing out returns to the signed-out header; wrong credentials show an error', async ({ api, page }) => {
  await page.getByTestId('user-menu').click();
  await page.getByTestId('sign-out').click();
  await page.getByTestId('nav-sign-in').waitFor();
  await page.goto(api.base + '/sign-in');
  const form = page.getByTestId('sign-in-form');
  await form.getByTestId('input-email').fill('stella@example.test');
  await form.getByTestId('input-password').fill('not the password');
  await form.getByTestId('sign-in-submit').click();
  await form.getByTestId('form-error').waitFor();
  // better-auth's code survives the API's problem+json and picks the client's wording
  assert.match((await form.getByTestId('form-error').textContent()) ?? '', /Wrong email or password/);
  await form.getByTestId('input-password').fill('stella password');
  await form.getByTestId('sign-in-submit').click();
  await page.getByTestId('user-menu').waitFor();
});

t('no page raised an uncaught error', ({ errors }) => {
  assert.equal(errors, []);
});

t.run();
