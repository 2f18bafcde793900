// Going live through the real WHIP path (Chromium's fake camera) with a follower watching the site in the same
// browser: the follower clicks Follow on the channel page; when the channel goes live the header bell counts it and
// shows it at once (Socket.IO), the inbox has it, the owner's webhook receiver on loopback gets a signed
// `channel.live` and later `channel.offline`. The channel is subscriber-only live: WHEP refuses the follower (403)
// until the owner grants a subscription, plays for them then, and refuses again once it has expired; the broadcast's
// recording is subscriber-only too.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as assert from 'uvu/assert';
import { liveSuite } from '../helpers/live-suite.ts';
import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { subscription, vod } from '../../shared/db/index.ts';
import { channelWithKey } from '../helpers/api.ts';
import { publish, until, view, viewerStats, withKey } from '../helpers/webrtc.ts';

const t = liveSuite('go live: notifications, webhooks, subscriber-only live', { owner: null, env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });

t('a follower hears the channel go live in the page; webhooks fire; WHEP admits subscribers only', async ({ api, browser }) => {
  const owner = await api.client().signUp('Live Owner');
  const key = await channelWithKey(owner, 'members-live', 'Members live');
  const fan = await api.client().signUp('Loyal Fan');
  await browser.context.addCookies([...fan.cookies].map(([name, value]) => ({ name, value, url: api.base })));

  const hooks: { headers: IncomingMessage['headers']; body: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hooks.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = await owner.post('/api/channels/members-live/webhooks', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/glint` });
  assert.is(hook.status, 201, hook.text);
  assert.is((await owner.patch('/api/channels/members-live', { subscribersOnlyLive: true })).status, 200);
  const tier = await owner.post('/api/channels/members-live/tiers', { name: 'Member', priceCents: 300 });

  const page = await browser.context.newPage();
  page.setDefaultTimeout(20_000);
  const pub = await browser.context.newPage();
  const watcher = await browser.context.newPage();
  try {
    // follow from the channel page
    await page.goto(api.base + '/c/members-live');
    const follow = page.getByTestId('follow-button');
    await follow.waitFor();
    assert.is((await follow.textContent())?.trim(), 'Follow');
    await follow.click();
    await page.waitForFunction(() => document.querySelector('[data-testid="follow-button"]')?.textContent?.trim() === 'Following');
    assert.match((await page.getByTestId('follower-count').textContent()) ?? '', '1 follower');
    await page.getByTestId('subscribe-box').waitFor();
    assert.match((await page.getByTestId('subscribe-box').textContent()) ?? '', 'live streams are for subscribers');
    await page.goto(api.base + '/');
    await page.getByTestId('notification-bell').waitFor();
    await page.waitForTimeout(500); // the bell's socket connects

    // go live over WHIP
    await pub.goto(api.base + '/');
    const p = await publish(pub, { slug: 'members-live', key });
    assert.is(p.status, 201, p.body);

    // the follower's page hears it at once
    const flash = page.getByTestId('notification-flash');
    await flash.waitFor();
    assert.match((await flash.textContent()) ?? '', 'Members live is live now');
    assert.is((await page.getByTestId('notification-count').textContent())?.trim(), '1');
    const inbox = await fan.get('/api/me/notifications');
    assert.is(inbox.body.unread, 1);
    assert.is(inbox.body.items[0].channel.slug, 'members-live');
    await page.getByTestId('notification-bell').click();
    assert.is(await page.getByTestId('notification').count(), 1);
    // opening the panel marks what it lists read (its "Mark all read" has nothing left to do)
    assert.ok(await page.getByTestId('notifications-read-all').isDisabled(), 'nothing unread once the panel is open');
    await page.waitForFunction(() => !document.querySelector('[data-testid="notification-count"]'));
    assert.is((await fan.get('/api/me/notifications')).body.unread, 0);

    // the webhook, signed
    const live = await until(async () => hooks.find((h) => JSON.parse(h.body).type === 'channel.live'), (h) => !!h, 10_000);
    assert.ok(live, 'channel.live delivered');
    const payload = new Webhook(hook.body.secret).verify(live!.body, live!.headers as Record<string, string>) as any;
    assert.is(payload.data.channel.slug, 'members-live');

    // subscriber-only live: the follower is refused, a subscriber gets in and sees video
    await watcher.goto(api.base + '/');
    const refused = await view(watcher, 'members-live');
    assert.is(refused.status, 403, refused.body);
    assert.match(refused.body, 'subscribers');
    const grant = await owner.post('/api/channels/members-live/subscriptions', { userId: fan.user!.id, tierId: tier.body.id });
    assert.is(grant.status, 201, grant.text);
    await watcher.reload();
    const admitted = await view(watcher, 'members-live');
    assert.is(admitted.status, 201, admitted.body);
    const stats = await until(() => viewerStats(watcher), (s) => s.framesDecoded > 10, 15_000);
    assert.ok(stats.framesDecoded > 10, `a subscriber watches: ${JSON.stringify(stats)}`);
    await api.deps.database.db.update(subscription).set({ endsAt: new Date(Date.now() - 1000) }).where(eq(subscription.id, grant.body.id));
    await watcher.reload();
    assert.is((await view(watcher, 'members-live')).status, 403, 'an expired subscription no longer admits');
    assert.is((await api.client().req('POST', '/whep/members-live', { body: 'v=0', headers: { 'content-type': 'application/sdp' }, check: false })).status, 401, 'anonymous: sign in first');

    // the recording of a subscriber-only broadcast is subscriber-only
    const [recording] = await until(() => api.deps.database.db.select().from(vod).where(eq(vod.liveSessionId, inbox.body.items[0].liveSessionId)), (r) => r.length > 0);
    assert.is(recording?.visibility, 'subscribers');

    // ending the broadcast: channel.offline
    assert.is((await fetch(api.base + p.location!, { method: 'DELETE', headers: withKey(key) })).status, 200);
    const offline = await until(async () => hooks.find((h) => JSON.parse(h.body).type === 'channel.offline'), (h) => !!h, 15_000);
    assert.ok(offline, 'channel.offline delivered');
    const ready = await until(async () => hooks.find((h) => JSON.parse(h.body).type === 'vod.ready'), (h) => !!h, 20_000);
    assert.ok(ready, 'vod.ready delivered');
    const vodReady = JSON.parse(ready!.body);
    assert.is(vodReady.data.vod.id, recording!.id);
    assert.ok(vodReady.data.vod.durationMs > 1000, `duration ${vodReady.data.vod.durationMs} ms`);
  } finally {
    await Promise.all([page.close(), pub.close(), watcher.close()]);
    await new Promise((r) => receiver.close(r));
  }
});

t('the owner manages tiers, gifts a follower a subscription, gates the live stream and adds a webhook from My channels', async ({ api, browser }) => {
  const owner = await api.client().signUp('Manager');
  await channelWithKey(owner, 'managed', 'Managed');
  const follower = await api.client().signUp('Follower Fred');
  await follower.put('/api/channels/managed/follow');
  await browser.context.clearCookies();
  await browser.context.addCookies([...owner.cookies].map(([name, value]) => ({ name, value, url: api.base })));
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  try {
    await page.goto(api.base + '/me/channels');
    const mine = page.locator('[data-testid="my-channel"][data-slug="managed"]');
    await mine.waitFor();
    await page.waitForTimeout(300);
    if ((await mine.getByTestId('subscriptions-manager').count()) === 0) await mine.getByTestId('manage-toggle').click(); // a lone channel opens by itself
    const subs = page.getByTestId('subscriptions-manager');
    await subs.getByLabel('Tier name').fill('Gold');
    await subs.getByRole('button', { name: 'Add tier' }).click();
    await subs.getByText('Gold · 4.99 USD').waitFor();
    await subs.getByLabel('Follower').selectOption({ label: 'Follower Fred' });
    await subs.getByLabel('Tier', { exact: true }).selectOption({ label: 'Gold' });
    await subs.getByRole('button', { name: 'Give' }).click();
    await subs.getByTestId('subscriber-list').getByText('Follower Fred · Gold · until canceled').waitFor();
    assert.equal((await follower.get('/api/channels/managed/subscription')).body.subscribed, true);
    await subs.getByTestId('gate-live').check();
    await until(() => api.client().get('/api/channels/managed').then((r) => r.body.subscribersOnlyLive), (v) => v === true);
    assert.is((await api.client().get('/api/channels/managed')).body.subscribersOnlyLive, true);

    const hooks = page.getByTestId('webhooks-manager');
    await hooks.getByTestId('webhook-url').fill('https://example.test/glint');
    await hooks.getByTestId('webhook-add').click();
    assert.match((await hooks.getByTestId('webhook-secret').textContent()) ?? '', 'whsec_');
    assert.is((await owner.get('/api/channels/managed/webhooks')).body[0].url, 'https://example.test/glint');
  } finally {
    await page.close();
  }
});

t.run();
