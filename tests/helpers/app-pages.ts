// The web app's main pages over one seeded world, for the suites that look at every page (tests/web/layout.test.ts,
// tests/web/a11y.test.ts): an API with a streamer broadcasting from the studio, offline channels of another owner, a
// recording, follows; two Chromium profiles (the streamer signed in, a visitor signed out); and the list of pages,
// one line each.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startTestApi, type Client, type TestApi } from './api.ts';
import { launchBrowser, type Browser } from './browser.ts';
import { ffmpegVodFiles, seedVod } from './vod-seed.ts';
import { until } from './webrtc.ts';

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'page-probe.js');

/**
 * What the pages show: slugs, the recording's id, the streamer's user id (their profile), and a verification link's
 * token of an account verified already (the link's page says so, and signs nobody in).
 */
export type World = { live: string; offline: string; longTitle: string; vodId: string; ownerName: string; uploadId: string; ownerId: string; verifyToken: string };

/**
 * One page of the app: its name (screenshots are `<name>-<width>.png`), its path, who looks at it (`owner`: the
 * signed-in streamer, whose studio tab is live; `visitor`: signed out) and a selector that is there once it has loaded.
 * Add a page with one line in PAGES.
 */
export type AppPage = { name: string; path: (w: World) => string; as: 'owner' | 'visitor'; ready: string };

export const PAGES: AppPage[] = [
  { name: 'home', path: () => '/', as: 'visitor', ready: '[data-testid="channel-grid"] [data-testid="channel-card"]' },
  { name: 'channel-live', path: (w) => `/c/${w.live}`, as: 'visitor', ready: '[data-testid="channel-page"]' },
  { name: 'channel-offline', path: (w) => `/c/${w.offline}`, as: 'visitor', ready: '[data-testid="channel-page"]' },
  { name: 'channel-long-title', path: (w) => `/c/${w.longTitle}`, as: 'visitor', ready: '[data-testid="channel-page"]' },
  { name: 'vod', path: (w) => `/v/${w.vodId}`, as: 'visitor', ready: '[data-testid="vod-page"]' },
  // an upload on its owner's page: the edit form (opened by the suites that look at it) beside details and chapters
  { name: 'vod-owner', path: (w) => `/v/${w.uploadId}`, as: 'owner', ready: '[data-testid="vod-editor"]' },
  { name: 'videos', path: () => '/videos', as: 'visitor', ready: '[data-testid="videos-grid"] [data-testid="video-card"]' },
  { name: 'search', path: () => '/search?q=night', as: 'visitor', ready: '[data-testid="search-hit"]' },
  { name: 'categories', path: () => '/categories', as: 'visitor', ready: '[data-testid="category"]' },
  { name: 'sign-in', path: () => '/sign-in', as: 'visitor', ready: '[data-testid="sign-in-form"]' },
  { name: 'sign-up', path: () => '/sign-up', as: 'visitor', ready: '[data-testid="sign-up-form"]' },
  { name: 'following', path: () => '/me/following', as: 'owner', ready: '[data-testid="following-page"]' },
  { name: 'my-channels', path: () => '/me/channels', as: 'owner', ready: '[data-testid="my-channel-list"]' },
  { name: 'upload', path: (w) => `/studio/${w.live}/upload`, as: 'owner', ready: '[data-testid="upload-page"]' },
  // the studio is the owner's broadcasting tab itself (opened and taken live by openWorld), looked at in place
  { name: 'studio-live', path: (w) => `/studio/${w.live}`, as: 'owner', ready: '[data-testid="studio-page"]' },
  // the same tab after an in-app navigation away while live: the header carries the "you are live" pill too
  { name: 'live-away', path: () => '/', as: 'owner', ready: '[data-testid="live-pill"]' },
  { name: 'settings', path: () => '/settings', as: 'owner', ready: '[data-testid="settings-delete-form"]' },
  { name: 'profile', path: (w) => `/u/${w.ownerId}`, as: 'visitor', ready: '[data-testid="profile-page"] [data-testid="channel-card"]' },
  { name: 'reset-password', path: () => '/reset-password', as: 'visitor', ready: '[data-testid="reset-request-form"]' },
  // the mailed link's page: the new password's form (the token is checked when it is sent)
  { name: 'reset-password-link', path: () => '/reset-password?token=a-token-from-the-mail', as: 'visitor', ready: '[data-testid="reset-form"]' },
  { name: 'verify-email', path: (w) => `/verify-email?token=${encodeURIComponent(w.verifyToken)}`, as: 'visitor', ready: '[data-testid="verify-done"]' },
  { name: 'verify-email-failed', path: () => '/verify-email', as: 'visitor', ready: '[data-testid="verify-failed"]' },
  // the streamer is the instance's first account, so its admin
  { name: 'admin-outbox', path: () => '/admin/outbox', as: 'owner', ready: '[data-testid="outbox-mail"]' },
  { name: 'not-found', path: () => '/no-such-page/anywhere', as: 'visitor', ready: '[data-testid="not-found"]' },
];

export type Opened = {
  api: TestApi;
  world: World;
  owner: Client;
  /** the streamer's Chromium (fake camera and microphone), signed in */
  ownerBrowser: Browser;
  /** a visitor's Chromium, signed out */
  visitorBrowser: Browser;
  /** the owner's studio tab, live on world.live, and its console and page errors since it opened */
  studio: Page;
  studioErrors: string[];
  close(): Promise<void>;
};

/** Signs `browser` in as `client` (copies the client's session cookies into it). */
async function signIn(browser: Browser, api: TestApi, client: Client) {
  await browser.context.addCookies([...client.cookies].map(([name, value]) => ({ name, value, url: api.base })));
}

/** Starts the API, seeds the world, opens both browsers and takes the studio live; close() ends all of it. */
export async function openWorld(): Promise<Opened> {
  const opened: Partial<Opened> = {};
  const close = async () => {
    await opened.studio?.close().catch(() => undefined);
    await opened.ownerBrowser?.close();
    await opened.visitorBrowser?.close();
    await opened.api?.stop();
  };
  try {
    const api = (opened.api = await startTestApi());
    const world: World = { live: 'nova-night', offline: 'quiet-hours', longTitle: 'long-title', vodId: '', ownerName: 'Nova Caster', uploadId: '', ownerId: '', verifyToken: '' };
    const owner = (opened.owner = await api.client().signUp(world.ownerName));
    world.ownerId = owner.user!.id;
    const other = await api.client().signUp('Quinn Quiet');
    world.verifyToken = await verifiedLinkToken(api, owner, other);
    const create = async (c: Client, body: Record<string, unknown>) => {
      const r = await c.post('/api/channels', body);
      if (r.status !== 201) throw new Error(`creating channel ${String(body.slug)}: ${r.status} ${r.text}`);
    };
    await create(owner, {
      slug: world.live,
      title: 'Nova Night — synths until sunrise',
      category: 'Music',
      description: 'Modular synth jams every night. Requests in chat, patches on the site.',
    });
    await create(other, { slug: world.offline, title: 'Quiet hours', category: 'Talk', description: 'Slow talk for late nights.' });
    await create(other, {
      slug: world.longTitle,
      title: 'A_channel_title_written_without_any_spaces_so_it_cannot_wrap_anywhere_at_all',
      category: 'Speedrunning marathons and long category names',
      description: 'https://example.test/a/very/long/address/without/spaces/that/must/wrap/inside/its/box/and/not/widen/the/page',
    });
    world.vodId = await seedVod(api, other, world.offline, {
      files: await ffmpegVodFiles(),
      details: { durationMs: 6000, description: 'A quiet evening of talk.\nSecond line.', category: 'Talk', tags: ['late', 'calm'], language: 'en', chapters: [{ startSeconds: 0, title: 'Hello' }, { startSeconds: 3, title: 'The long middle part of a conversation' }] },
    });
    world.uploadId = await seedVod(api, owner, world.live, {
      files: await ffmpegVodFiles(),
      details: { source: 'upload', title: 'Patch notes: building a modular voice from scratch', durationMs: 6000, category: 'Music', tags: ['synth'], visibility: 'unlisted', chapters: [{ startSeconds: 0, title: 'Intro' }] },
    });
    for (const slug of [world.offline, world.longTitle]) {
      const r = await owner.put(`/api/channels/${slug}/follow`);
      if (r.status !== 200) throw new Error(`following ${slug}: ${r.status} ${r.text}`);
    }

    opened.ownerBrowser = await launchBrowser({ fakeMedia: true });
    opened.visitorBrowser = await launchBrowser();
    await signIn(opened.ownerBrowser, api, owner);

    const studio = (opened.studio = await opened.ownerBrowser.context.newPage());
    studio.setDefaultTimeout(15_000);
    opened.studioErrors = watchErrors(studio);
    await studio.goto(`${api.base}/studio/${world.live}`);
    const goLive = studio.getByTestId('studio-go-live');
    await goLive.waitFor();
    await studio.waitForFunction(() => !(document.querySelector('[data-testid="studio-go-live"]') as HTMLButtonElement | null)?.disabled);
    await goLive.click();
    // a live channel carries its live session (viewers, start); an offline one null
    const live = await until(() => owner.get(`/api/channels/${world.live}`), (r) => !!r.body?.live, 20_000);
    if (!live.body?.live) throw new Error(`the studio did not take ${world.live} live (GET /api/channels/${world.live}: ${live.status} ${live.text.slice(0, 300)})`);
    return { ...(opened as Opened), world, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The token of `who`'s sign-up verification mail, read from the outbox by `admin` (embedded defaults keep mail
 * there) and used once here: opened again, the link says the address is verified and signs no one in.
 */
async function verifiedLinkToken(api: TestApi, admin: Client, who: Client): Promise<string> {
  type Outbox = { mails?: { to: string; text: string }[] };
  const mailTo = (r: { body: Outbox | undefined }) => r.body?.mails?.find((m) => m.to === who.user!.email);
  const outbox = await until(() => admin.get<Outbox>('/api/admin/outbox'), (r) => !!mailTo(r), 5000); // sent beside the sign-up
  const mail = mailTo(outbox);
  const token = mail?.text.match(/\/verify-email\?token=([^\s&]+)/)?.[1];
  if (!token) throw new Error(`no verification link for ${who.user!.email} in the outbox (GET /api/admin/outbox: ${outbox.status} ${outbox.text.slice(0, 300)})`);
  const r = await api.client().get(`/api/auth/verify-email?token=${token}`);
  if (r.status !== 200) throw new Error(`verifying ${who.user!.email}: ${r.status} ${r.text}`);
  return decodeURIComponent(token);
}

/** Console errors and uncaught page errors of `page` from now on, one line each (the list fills as they happen). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location().url.replace(/^https?:\/\/[^/]+/, '');
    errors.push(`console error: ${m.text()}${where ? ` (${where})` : ''}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return errors;
}

/**
 * Opens `p` at `size` in a fresh tab of the right browser, watching its errors from the first request, and waits for
 * it to have loaded. The studio is the live tab itself, resized (`close` leaves it open).
 */
export async function openPage(o: Opened, p: AppPage, size: { width: number; height: number }): Promise<{ page: Page; errors: string[]; close(): Promise<void> }> {
  if (p.name === 'studio-live') {
    await o.studio.setViewportSize(size);
    await loaded(o.studio, p);
    return { page: o.studio, errors: o.studioErrors, close: async () => undefined };
  }
  if (p.name === 'live-away') {
    const studio = PAGES.find((q) => q.name === 'studio-live')!;
    await o.studio.setViewportSize({ width: 1280, height: 800 }); // the nav is in the row there
    await o.studio.getByTestId('nav-home').click();
    await o.studio.setViewportSize(size);
    await loaded(o.studio, p);
    return {
      page: o.studio,
      errors: o.studioErrors,
      close: async () => {
        await o.studio.getByTestId('live-pill-studio').click(); // back in the studio, still live
        await loaded(o.studio, studio);
      },
    };
  }
  const browser = p.as === 'owner' ? o.ownerBrowser : o.visitorBrowser;
  const page = await browser.context.newPage();
  const errors = watchErrors(page);
  page.setDefaultTimeout(15_000);
  await page.setViewportSize(size);
  await page.goto(o.api.base + p.path(o.world));
  await loaded(page, p);
  return { page, errors, close: () => page.close() };
}

/** Waits for the page's ready selector, no loading state in the main area, and its fonts. */
export async function loaded(page: Page, p: AppPage): Promise<void> {
  await page.locator(p.ready).first().waitFor({ state: 'visible' });
  await page.waitForFunction(() => !document.querySelector('main [data-testid="loading"]'));
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
}

/** Adds tests/helpers/page-probe.js to the page (once) as window.glintProbe. */
export async function addProbe(page: Page): Promise<void> {
  if (!(await page.evaluate(() => 'glintProbe' in window))) await page.addScriptTag({ path: PROBE });
}
