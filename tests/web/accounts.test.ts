// Accounts in Chromium: password reset through a real SMTP server (smtp-server from npm), email verification from the
// mailed link, settings (name, password, deletion), the public profile, and sign-in returning to ?next= — only when
// it is a path on this origin.
import { mkdir } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SMTPServer } from 'smtp-server';
import type { Page } from 'playwright-core';
import { channelWithKey, freePort, startTestApi, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';

const SHOTS = process.env.GLINT_SHOTS_DIR ?? '/tmp/glint-shots/accounts';
type Ctx = { api: TestApi; browser: Browser; mails: { to: string; raw: string }[]; smtp: SMTPServer };
const t = suite<Ctx>('accounts in the web app');

t.before(async (ctx) => {
  await mkdir(SHOTS, { recursive: true });
  ctx.mails = [];
  ctx.smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        for (const to of session.envelope.rcptTo) ctx.mails.push({ to: to.address, raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => ctx.smtp.listen(port, '127.0.0.1', resolve));
  ctx.api = await startTestApi({ SMTP_URL: `smtp://127.0.0.1:${port}` });
  await ctx.api.client().signUp('First Admin'); // the instance's admin, so later accounts are plain users
  ctx.browser = await launchBrowser();
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
  await new Promise<void>((resolve) => (ctx.smtp ? ctx.smtp.close(() => resolve()) : resolve()));
});

/** The newest mailed link to `page` for `to`. */
function mailedLink(mails: Ctx['mails'], to: string, page: string): string {
  const raw = mails.filter((m) => m.to === to).at(-1)?.raw ?? '';
  const flat = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const m = flat.match(new RegExp(`https?://[^\\s]+/${page}\\?token=[^\\s]+`));
  assert.ok(m, `a /${page} link mailed to ${to}`);
  return m[0];
}

async function freshPage(browser: Browser, errors: string[]): Promise<Page> {
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return page;
}

async function signInThrough(page: Page, email: string, password: string) {
  await page.getByTestId('input-email').fill(email);
  await page.getByTestId('input-password').fill(password);
  await page.getByTestId('sign-in-submit').click();
}

t('forgot password: the link mailed through SMTP sets a new password that signs in', async ({ api, browser, mails }) => {
  const user = await api.client().signUp('Reset Rita');
  const email = user.user!.email;
  const errors: string[] = [];
  const page = await freshPage(browser, errors);
  await page.goto(`${api.base}/sign-in`);
  await page.getByTestId('forgot-password').click();
  await page.getByTestId('input-email').fill(email);
  await page.getByTestId('reset-request-submit').click();
  await page.getByTestId('reset-requested').waitFor();

  await page.goto(mailedLink(mails, email, 'reset-password'));
  await page.getByTestId('input-password').fill('rita has a new one');
  await page.getByTestId('reset-submit').click();
  await page.getByTestId('reset-done').waitFor();
  await page.screenshot({ path: `${SHOTS}/reset-done.png` });
  await page.getByTestId('reset-sign-in').click();
  await signInThrough(page, email, 'rita has a new one');
  await page.waitForURL(`${api.base}/`);
  assert.equal(errors, []);
  await page.close();
});

t('a wrong reset link says so and offers a new one', async ({ api, browser }) => {
  const page = await freshPage(browser, []);
  await page.goto(`${api.base}/reset-password?token=not-a-token`);
  await page.getByTestId('input-password').fill('whatever whatever');
  await page.getByTestId('reset-submit').click();
  await page.getByTestId('form-error').getByText('not valid').waitFor();
  await page.close();
});

t('the mailed verification link verifies the address and the banner goes', async ({ api, browser, mails }) => {
  const user = await api.client().signUp('Verify Vic');
  await browser.context.clearCookies();
  await browser.context.addCookies([...user.cookies].map(([name, value]) => ({ name, value, url: api.base })));
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${api.base}/`);
  await page.getByTestId('verify-banner').waitFor();
  await page.screenshot({ path: `${SHOTS}/verify-banner.png` });
  const before = mails.filter((m) => m.to === user.user!.email).length;
  await page.getByTestId('verify-resend').click();
  await page.getByTestId('verify-banner').getByText('on its way').waitFor();
  assert.is(mails.filter((m) => m.to === user.user!.email).length, before + 1, 'the resend mailed a fresh link');
  await page.goto(mailedLink(mails, user.user!.email, 'verify-email'));
  await page.getByTestId('verify-done').waitFor();
  await page.goto(`${api.base}/settings`);
  await page.getByTestId('email-verified').waitFor();
  assert.is(await page.getByTestId('verify-banner').count(), 0);
  await page.close();
});

t('settings: change the name and the password, then delete the account and its channel', async ({ api, browser }) => {
  const user = await api.client().signUp('Settings Sue');
  const email = user.user!.email;
  await channelWithKey(user, 'sues-channel', 'Sue streams');
  const errors: string[] = [];
  const page = await freshPage(browser, errors);
  await page.goto(`${api.base}/settings`);
  await page.getByTestId('settings-sign-in').click();
  await signInThrough(page, email, 'correct horse battery');
  await page.waitForURL(`${api.base}/settings`);

  await page.getByTestId('input-name').fill('Sue Renamed');
  await page.getByTestId('settings-name-submit').click();
  await page.getByTestId('settings-name-saved').waitFor();
  assert.is((await api.client().get(`/api/profiles/${user.user!.id}`)).body.name, 'Sue Renamed');

  const pw = page.getByTestId('settings-password-form');
  await pw.getByTestId('input-password').fill('not the password');
  await pw.getByTestId('input-newPassword').fill('sues new password');
  await page.getByTestId('settings-password-submit').click();
  await pw.getByTestId('error-password').waitFor();
  errors.length = 0; // that refusal (400) is logged by the browser on purpose; nothing else may be
  await pw.getByTestId('input-password').fill('correct horse battery');
  await page.getByTestId('settings-password-submit').click();
  await page.getByTestId('settings-password-saved').waitFor();

  const del = page.getByTestId('settings-delete-form');
  await del.getByTestId('settings-doomed-channels').getByText('Sue streams').waitFor();
  await page.screenshot({ path: `${SHOTS}/settings.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${SHOTS}/settings-phone.png`, fullPage: true });
  // the settings themselves fit a phone (the header is the layout's, checked by its own suite)
  const overflow = await page.evaluate(() => {
    const right = Math.max(...[...document.querySelectorAll('[data-testid="settings-page"] *')].map((e) => e.getBoundingClientRect().right));
    return right - document.documentElement.clientWidth;
  });
  assert.ok(overflow <= 0, `the settings fit 390 px (${overflow} px too wide)`);
  await page.setViewportSize({ width: 1280, height: 800 });
  await del.getByTestId('input-password').fill('sues new password');
  await page.getByTestId('settings-delete-submit').click();
  await page.waitForURL(`${api.base}/`);
  await page.getByTestId('nav-sign-in').waitFor();
  assert.is((await api.client().get('/api/channels/sues-channel')).status, 404);
  assert.is((await api.client().post('/api/auth/sign-in/email', { email, password: 'sues new password' })).status, 401);
  assert.equal(errors, []);
  await page.close();
});

t('the public profile shows the name, join date and channels, and no email', async ({ api, browser }) => {
  const user = await api.client().signUp('Profile Pat');
  await channelWithKey(user, 'pats-place', 'Pat plays');
  const page = await freshPage(browser, []);
  await page.goto(`${api.base}/u/${user.user!.id}`);
  await page.getByTestId('profile-name').getByText('Profile Pat').waitFor();
  await page.getByTestId('profile-joined').waitFor();
  await page.getByTestId('channel-card-title').getByText('Pat plays').waitFor();
  await page.screenshot({ path: `${SHOTS}/profile.png` });
  assert.not.ok((await page.locator('body').innerText()).includes(user.user!.email), 'no email on the page');
  await page.close();
});

t('sign-in returns to ?next=; an off-site next is ignored', async ({ api, browser }) => {
  const user = await api.client().signUp('Next Ned');
  const email = user.user!.email;
  let page = await freshPage(browser, []);
  await page.goto(`${api.base}/categories`);
  await page.getByTestId('nav-sign-in').click();
  await page.waitForURL(`${api.base}/sign-in?next=%2Fcategories`);
  await signInThrough(page, email, 'correct horse battery');
  await page.waitForURL(`${api.base}/categories`);
  await page.close();

  for (const evil of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
    page = await freshPage(browser, []);
    await page.goto(`${api.base}/sign-in?next=${encodeURIComponent(evil)}`);
    await signInThrough(page, email, 'correct horse battery');
    await page.waitForURL(`${api.base}/`);
    assert.is(new URL(page.url()).origin, api.base, `${evil}: stayed on this origin`);
    await page.close();
  }
});

t('signed out, a studio says "Sign in to go live" and signing in returns there', async ({ api, browser }) => {
  const owner = await api.client().signUp('Studio Stu');
  await channelWithKey(owner, 'stus-studio');
  const page = await freshPage(browser, []);
  await page.goto(`${api.base}/studio/stus-studio`);
  await page.getByText('Sign in to go live').waitFor();
  await page.screenshot({ path: `${SHOTS}/studio-signed-out.png` });
  await page.getByTestId('studio-sign-in').click();
  await signInThrough(page, owner.user!.email, 'correct horse battery');
  await page.waitForURL(`${api.base}/studio/stus-studio`);
  await page.close();
});

t('sign-up lands on the channel onboarding (/me/channels) unless a next is given', async ({ api, browser }) => {
  const page = await freshPage(browser, []);
  await page.goto(`${api.base}/sign-up`);
  await page.getByTestId('input-name').fill('New Nora');
  await page.getByTestId('input-email').fill('nora@example.test');
  await page.getByTestId('input-password').fill('a good password');
  await page.getByTestId('sign-up-submit').click();
  await page.waitForURL(`${api.base}/me/channels`);
  // the next step is said there: create a channel is the current one of three
  await page.getByTestId('onboarding').waitFor();
  assert.equal(await page.getByTestId('onboarding-step').evaluateAll((steps) => steps.map((s) => (s as HTMLElement).dataset.state)), ['current', 'todo', 'todo']);
  await page.close();
});

t('the outbox page is for admins only', async ({ api, browser }) => {
  const user = await api.client().signUp('Not Admin');
  await browser.context.clearCookies();
  await browser.context.addCookies([...user.cookies].map(([name, value]) => ({ name, value, url: api.base })));
  const page = await browser.context.newPage();
  await page.goto(`${api.base}/admin/outbox`);
  await page.getByText('Admins only').waitFor();
  await page.close();
});

t.run();
