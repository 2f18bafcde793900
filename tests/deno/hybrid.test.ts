// The hybrid docker-compose runs: the API on Deno (server/deno.ts) and the media plane as a Node service
// (server/sfu.ts), meeting over PostgreSQL and Redis, the API forwarding WHIP/WHEP to the SFU. In Chromium, as a
// user: sign up and sign in on the Deno API's web app, create a channel and a stream key, go live over WHIP, watch
// over WHEP on the channel page, chat from both pages (Socket.IO through the Deno API's bridge), and end the broadcast.
import type { Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort, freshDatabase, LOOSE_LIMITS } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { startProcess, waitForHttp, type Child } from '../helpers/process.ts';
import { publish, withKey } from '../helpers/webrtc.ts';

type Ctx = { api: string; sfu: string; children: Child[]; browser: Browser; dropDatabase(): Promise<void> };
const t = suite<Ctx>('Deno API + Node SFU');

/** Signs up in the web app's form, as a person would; resolves once the header shows the account. */
async function signUpInPage(page: Page, api: string, name: string) {
  const first = name.split(' ')[0]!.toLowerCase();
  await page.goto(api + '/sign-up');
  await page.getByTestId('input-name').fill(name);
  await page.getByTestId('input-email').fill(`${first}@example.test`);
  await page.getByTestId('input-password').fill(`${first} password`);
  await page.getByTestId('sign-up-submit').click();
  await page.getByTestId('user-menu').waitFor();
}

t.before(async (ctx) => {
  const db = await freshDatabase('postgres');
  ctx.dropDatabase = db.drop; // migrated already; the services open their own connections
  const [apiPort, sfuPort] = [await freePort(), await freePort()];
  ctx.api = `http://127.0.0.1:${apiPort}`;
  ctx.sfu = `http://127.0.0.1:${sfuPort}`;
  const shared = {
    ...process.env,
    ...LOOSE_LIMITS,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.GLINT_TEST_LOG ?? 'warn',
    DATABASE_URL: db.url!,
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `glint-hybrid-${process.pid}:`,
    BETTER_AUTH_SECRET: 'hybrid test secret, the same on both services',
    PUBLIC_URL: ctx.api,
    DATA_DIR: `/tmp/glint-hybrid-${process.pid}`,
  };
  ctx.children = [
    startProcess('node_modules/.bin/deno', ['run', '--allow-net', '--allow-env', '--allow-read', '--allow-write', '--allow-sys', '--allow-run', 'server/deno.ts'], {
      env: { ...shared, PORT: String(apiPort), SFU_URL: ctx.sfu },
    }),
  ];
  await waitForHttp(`${ctx.api}/readyz`, 60_000, ctx.children[0]);
  ctx.children.push(
    startProcess(process.execPath, ['.build/sfu.mjs'], {
      // the API forwards viewers' addresses: the SFU believes X-Forwarded-For from loopback (where the API is)
      env: { ...shared, PORT: String(sfuPort), RTC_PORT: '0', RTMP_PORT: '0', TRUSTED_PROXIES: '127.0.0.1', RECORDER_EMBEDDED: 'false' },
    }),
  );
  await waitForHttp(`${ctx.sfu}/readyz`, 60_000, ctx.children[1]);
  ctx.browser = await launchBrowser({ fakeMedia: true });
});

t.after(async (ctx) => {
  await ctx.browser?.close();
  for (const c of ctx.children ?? []) await c.stop();
  await ctx.dropDatabase?.();
});

t('the API runs on Deno; live media answers from the Node SFU behind it', async (ctx) => {
  const ready = await (await fetch(`${ctx.api}/readyz`)).json();
  assert.equal(ready, { status: 'ok', database: 'postgres', bus: 'redis' });
  assert.match(ctx.children[0]!.output(), /API on Deno 2\./, 'the Deno entry printed its banner');
  // an offer for a channel that does not exist reaches the SFU, which answers as the SFU does
  const r = await fetch(`${ctx.api}/whep/nobody-here`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' });
  assert.ok(r.status >= 400 && r.status < 500, `a 4xx from the SFU, got ${r.status}: ${await r.clone().text()}`);
  assert.match(r.headers.get('content-type') ?? '', /problem\+json/);
  // a wrong stream key: the SFU's 401 with the header its route set, through the API's forwarding
  const refused = await fetch(`${ctx.api}/whip/nobody-here`, { method: 'POST', headers: { 'content-type': 'application/sdp', ...withKey('glint_not-a-key') }, body: 'v=0\r\n' });
  assert.is(refused.status, 401);
  assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer realm="glint-whip"/);
  assert.match(refused.headers.get('content-type') ?? '', /problem\+json/);
});

t('sign up and in, go live over WHIP, watch over WHEP and chat, all through the Deno API', async (ctx) => {
  const { api, browser } = ctx;
  const owner = await browser.context.newPage();
  owner.setDefaultTimeout(20_000);
  const viewer = await browser.context.browser()!.newContext(); // a second person: cookies of their own
  const watch = await viewer.newPage();
  watch.setDefaultTimeout(20_000);
  try {
    // the streamer signs up in the web app and creates a channel with a stream key
    await signUpInPage(owner, api, 'Dena Streamer');
    // (no named helpers inside evaluate: the test's TypeScript loader would name them with a function the page lacks)
    const made = await owner.evaluate(async () => {
      const json = { 'content-type': 'application/json' };
      const channel = await fetch('/api/channels', { method: 'POST', headers: json, body: JSON.stringify({ slug: 'on-deno', title: 'Live on Deno' }) });
      const key = await fetch('/api/channels/on-deno/stream-keys', { method: 'POST', headers: json, body: '{}' });
      return { channel: channel.status, key: ((await key.json()) as { key: string }).key };
    });
    assert.is(made.channel, 201);

    // goes live over WHIP: the offer goes to the Deno API, which forwards it to the SFU
    const p = await publish(owner, { slug: 'on-deno', key: made.key });
    assert.is(p.status, 201, p.body);
    assert.match(p.location ?? '', /^\/whip\/on-deno\/[A-Za-z0-9_-]{43}$/);
    assert.match(p.body, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/, 'the SFU announces loopback');

    // a viewer with an account signs in (to chat) and watches on the channel page over WHEP
    const viewerAccount = await fetch(api + '/api/auth/sign-up/email', { method: 'POST', headers: { 'content-type': 'application/json', origin: api }, body: JSON.stringify({ name: 'Vic Viewer', email: 'vic@example.test', password: 'vic password' }) });
    assert.is(viewerAccount.status, 200);
    await watch.goto(api + '/sign-in');
    const form = watch.getByTestId('sign-in-form');
    await form.getByTestId('input-email').fill('vic@example.test');
    await form.getByTestId('input-password').fill('vic password');
    await form.getByTestId('sign-in-submit').click();
    await watch.getByTestId('user-menu').waitFor();
    await watch.goto(api + '/c/on-deno');
    await watch.getByTestId('live-badge').waitFor();
    await watch.waitForFunction(() => {
      const v = document.querySelector('[data-testid="player-video"]') as HTMLVideoElement | null;
      return !!v && v.getVideoPlaybackQuality().totalVideoFrames > 10 && v.videoWidth > 0;
    });
    await watch.waitForFunction(() => /1 watching/.test(document.querySelector('[data-testid="viewer-count"]')?.textContent ?? ''), undefined, { timeout: 15_000 });

    // chat both ways: the streamer on the channel page too
    const hostPage = await browser.context.newPage();
    hostPage.setDefaultTimeout(20_000);
    await hostPage.goto(api + '/c/on-deno');
    const hostChat = hostPage.getByTestId('chat');
    const viewerChat = watch.getByTestId('chat');
    await viewerChat.getByTestId('chat-input').fill('hello from a viewer on Deno');
    await viewerChat.getByTestId('chat-send').click();
    await hostChat.getByText('hello from a viewer on Deno').waitFor();
    await hostChat.getByTestId('chat-input').fill('welcome, Vic');
    await hostChat.getByTestId('chat-send').click();
    await viewerChat.getByText('welcome, Vic').waitFor();
    await hostPage.close();

    // the streamer ends the broadcast with its stream key (DELETE through the API) and the page says Offline
    assert.is((await fetch(api + p.location!, { method: 'DELETE', headers: withKey(made.key) })).status, 200);
    await watch.waitForFunction(() => /offline/i.test(document.querySelector('[data-testid="player-status"]')?.textContent ?? ''));
  } finally {
    await owner.close();
    await viewer.close();
  }
});

t.run();
