// @runtime-matrix
// Pages kept current by the socket, in Chromium, with broadcasts announced on the API's bus as the SFU would (no media
// plane in this process: SFU_URL): home cards and the categories' live counts flip live/offline and follow the viewer
// count without a reload; following a channel that is live already says so; the bell's panel marks its entries read
// when opened, and a new one's toast stays clear of the header. A change made before the page's socket joined the
// directory is not lost.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { eq } from 'drizzle-orm';
import { channel, liveSession, notification } from '../../shared/db/index.ts';
import { runtime, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';

type Ctx = { api: TestApi; owner: Client; viewer: Client; browser: Browser };
const t = suite<Ctx>(`pages kept current by the socket (${runtime})`);

t.before(async (ctx) => {
  ctx.api = await startTestApi({ SFU_URL: 'http://127.0.0.1:9' });
  ctx.owner = await ctx.api.client().signUp('Caster');
  ctx.viewer = await ctx.api.client().signUp('Viewer');
  for (const [slug, category] of [['card-chan', 'Synthwave'], ['follow-chan', ''], ['bell-chan', '']] as const) {
    assert.is((await ctx.owner.post('/api/channels', { slug, title: `${slug} title`, category })).status, 201);
  }
  ctx.browser = await launchBrowser();
  await ctx.browser.context.addCookies([...ctx.viewer.cookies].map(([name, value]) => ({ name, value, url: ctx.api.base })));
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
});

const idOf = async (ctx: Ctx, slug: string) => (await ctx.api.deps.database.db.select({ id: channel.id }).from(channel).where(eq(channel.slug, slug)))[0]!.id;

/** A broadcast as the SFU announces it: the live session row, then channel.live; returns its end. */
async function goLive(ctx: Ctx, slug: string) {
  const channelId = await idOf(ctx, slug);
  const sessionId = crypto.randomUUID();
  const startedAt = new Date();
  const { db } = ctx.api.deps.database;
  await db.insert(liveSession).values({ id: sessionId, channelId, source: 'whip', codecs: ['video/VP8'], startedAt });
  await ctx.api.deps.bus.publish('channel.live', { channelId, slug, sessionId, source: 'whip', codecs: ['video/VP8'], startedAt: startedAt.toISOString() });
  return {
    viewers: (n: number) => ctx.api.deps.bus.publish('channel.viewers', { channelId, slug, sessionId, viewers: n }),
    end: async () => {
      await db.update(liveSession).set({ endedAt: new Date(), viewers: 0 }).where(eq(liveSession.id, sessionId));
      await ctx.api.deps.bus.publish('channel.offline', { channelId, slug, sessionId, reason: 'ended', peakViewers: 0 });
    },
  };
}

/** Holds the page's socket back (its WebSocket reaches the server only when released), as a slow connection would. */
async function holdBackSocket(page: Page): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  await page.routeWebSocket(/\/socket\.io\//, async (ws) => {
    await held;
    ws.connectToServer();
  });
  return release;
}

/** Marks the page's document so that a reload (a new document) would show. */
const mark = (page: Page) => page.evaluate(() => ((window as any).__sameDocument = true));
const sameDocument = (page: Page) => page.evaluate(() => (window as any).__sameDocument === true);

t('a home card and the categories page follow a broadcast live, its viewers and its end, without a reload', async (ctx) => {
  const home = await ctx.browser.context.newPage();
  const categories = await ctx.browser.context.newPage();
  home.setDefaultTimeout(10_000);
  categories.setDefaultTimeout(10_000);
  try {
    await home.goto(`${ctx.api.base}/`);
    const card = home.locator('[data-testid="channel-card"][data-slug="card-chan"]');
    await home.locator('[data-testid="channel-card"][data-slug="card-chan"][data-live="false"]').waitFor();
    await categories.goto(`${ctx.api.base}/categories`);
    const synthwave = categories.locator('[data-testid="category"]', { hasText: 'Synthwave' });
    await synthwave.waitFor();
    assert.not.match((await synthwave.textContent()) ?? '', /live/);
    await Promise.all([mark(home), mark(categories)]);

    const b = await goLive(ctx, 'card-chan');
    await home.locator('[data-testid="channel-card"][data-slug="card-chan"][data-live="true"]').waitFor();
    assert.match((await card.getByTestId('card-live').textContent()) ?? '', /Live · 0 watching/);
    await categories.locator('[data-testid="category"]', { hasText: '1 live' }).waitFor();

    await b.viewers(4);
    await home.waitForFunction(() => /4 watching/.test(document.querySelector('[data-slug="card-chan"] [data-testid="card-live"]')?.textContent ?? ''));

    await b.end();
    await home.locator('[data-testid="channel-card"][data-slug="card-chan"][data-live="false"]').waitFor();
    await categories.waitForFunction(() => ![...document.querySelectorAll('[data-testid="category"]')].some((c) => /live/.test(c.textContent ?? '')));
    assert.ok(await sameDocument(home), 'the home page was not reloaded');
    assert.ok(await sameDocument(categories), 'the categories page was not reloaded');
  } finally {
    await home.close();
    await categories.close();
  }
});

t('a broadcast that starts between the categories page’s fetch and its socket joining the directory still shows', async (ctx) => {
  const page = await ctx.browser.context.newPage();
  page.setDefaultTimeout(10_000);
  const release = await holdBackSocket(page);
  let b: Awaited<ReturnType<typeof goLive>> | undefined;
  try {
    await page.goto(`${ctx.api.base}/categories`);
    const synthwave = page.locator('[data-testid="category"]', { hasText: 'Synthwave' });
    await synthwave.waitFor();
    assert.not.match((await synthwave.textContent()) ?? '', /live/, 'fetched before the broadcast');
    b = await goLive(ctx, 'card-chan');
    release();
    await page.locator('[data-testid="category"]', { hasText: '1 live' }).waitFor();
  } finally {
    release();
    await page.close();
    await b?.end();
  }
});

t('following a channel that is live already says it is live now, with a link to watch', async (ctx) => {
  const b = await goLive(ctx, 'follow-chan');
  const page = await ctx.browser.context.newPage();
  page.setDefaultTimeout(10_000);
  try {
    await page.goto(`${ctx.api.base}/c/follow-chan`);
    await page.getByTestId('follow-button').click();
    const note = page.getByTestId('follow-live-note');
    await note.waitFor();
    assert.match((await note.textContent()) ?? '', /follow-chan title is live now — watch/);
    assert.is(await note.getByTestId('follow-live-watch').getAttribute('href'), '/c/follow-chan');
  } finally {
    await page.close();
    await b.end();
  }
});

t('opening the bell marks its entries read; a new one’s toast does not cover the header', async (ctx) => {
  const { db } = ctx.api.deps.database;
  const channelId = await idOf(ctx, 'bell-chan');
  const userId = ctx.viewer.user!.id;
  await db.insert(notification).values([1, 2].map(() => ({ userId, kind: 'channel.live' as const, channelId, liveSessionId: null, data: { slug: 'bell-chan', title: 'bell-chan title' } })));
  const page = await ctx.browser.context.newPage();
  page.setDefaultTimeout(10_000);
  try {
    await page.goto(`${ctx.api.base}/`);
    assert.is(await page.getByTestId('notification-count').textContent(), '2');
    await page.getByTestId('notification-bell').click();
    await page.getByTestId('notification-panel').waitFor();
    assert.is(await page.getByTestId('notification').count(), 2);
    await page.getByTestId('notification-count').waitFor({ state: 'detached' });
    const inbox = await ctx.viewer.get('/api/me/notifications');
    assert.is(inbox.body.unread, 0, 'the server has them read');
    assert.ok(inbox.body.items.every((n: { read: boolean }) => n.read));
    await page.getByTestId('notification-bell').click(); // close

    // a new entry arrives on the page's socket, as the go-live fan-out sends it
    const [row] = await db.insert(notification).values({ userId, kind: 'channel.live', channelId, liveSessionId: null, data: { slug: 'bell-chan', title: 'bell-chan title' } }).returning();
    ctx.api.chat.push.toUsers([userId], 'notification', () => ({ id: row!.id, kind: 'channel.live', channel: { slug: 'bell-chan', title: 'bell-chan title' }, liveSessionId: null, createdAt: row!.createdAt.toISOString(), read: false }));
    const flash = page.getByTestId('notification-flash');
    await flash.waitFor();
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
      const header = (await page.locator('.site-header').boundingBox())!;
      const toast = (await page.locator('.bell-flash').boundingBox())!;
      assert.ok(toast.y >= header.y + header.height, `at ${width} px the toast (top ${toast.y}) is below the header (bottom ${header.y + header.height})`);
      assert.ok(toast.x >= 0 && toast.x + toast.width <= width, `at ${width} px the toast fits the window (${toast.x}+${toast.width})`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  } finally {
    await page.close();
  }
});

t('an entry made while the page’s socket was still connecting shows on the bell once it connects', async (ctx) => {
  const { db } = ctx.api.deps.database;
  const channelId = await idOf(ctx, 'bell-chan');
  const userId = ctx.viewer.user!.id;
  const page = await ctx.browser.context.newPage();
  page.setDefaultTimeout(10_000);
  const release = await holdBackSocket(page);
  try {
    const inbox = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/me/notifications');
    await page.goto(`${ctx.api.base}/`);
    await inbox;
    await page.getByTestId('notification-bell').waitFor();
    const before = (await ctx.viewer.get('/api/me/notifications')).body.unread as number;
    // made (and pushed to the user's room) before this page's socket is in it
    await db.insert(notification).values({ userId, kind: 'channel.live', channelId, liveSessionId: null, data: { slug: 'bell-chan', title: 'bell-chan title' } });
    release();
    await page.waitForFunction((n) => document.querySelector('[data-testid="notification-count"]')?.textContent === String(n), before + 1);
  } finally {
    release();
    await page.close();
  }
});

t.run();
