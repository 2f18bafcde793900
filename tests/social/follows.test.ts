// @db-matrix
// @runtime-matrix
// Follows, the notification inbox and the go-live fan-out, through the HTTP API and a live-session event on the bus
// (tests/social/go-live.test.ts goes live through the real WHIP path in Chromium). Webhook deliveries: signature,
// retries with backoff, giving up, the delivery log.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { and, eq, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { FANOUT_BATCH } from '../../api/notifications.ts';
import { channel, job, liveSession, notification } from '../../shared/db/index.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { eventually as until } from '../helpers/assertions.ts';
import { chatSocket } from '../helpers/chat.ts';

type Ctx = { api: TestApi; owner: Client; fan: Client; other: Client };
const t = suite<Ctx>('follows and notifications');

t.before(async (ctx) => {
  // the receivers are on loopback, which webhooks may reach only when allowed (tested below)
  ctx.api = await startTestApi({ WEBHOOK_RETRY_MS: '100', WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_ALLOW_PRIVATE: 'true' });
  ctx.owner = await ctx.api.client().signUp('Caster');
  ctx.fan = await ctx.api.client().signUp('Fan');
  ctx.other = await ctx.api.client().signUp('Other');
  for (const slug of ['followed', 'second', 'fanout', 'hooked']) assert.is((await ctx.owner.post('/api/channels', { slug, title: `The ${slug} show` })).status, 201);
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a broadcast the way the SFU does: a live_session row, then channel.live on the bus. */
async function goLive(api: TestApi, slug: string) {
  const { db } = api.deps.database;
  const [ch] = await db.select().from(channel).where(eq(channel.slug, slug));
  const id = crypto.randomUUID();
  const startedAt = new Date();
  await db.insert(liveSession).values({ id, channelId: ch!.id, source: 'whip', startedAt });
  await api.deps.bus.publish('channel.live', { channelId: ch!.id, slug, sessionId: id, source: 'whip', codecs: ['VP8', 'opus'], startedAt: startedAt.toISOString() });
  return { channelId: ch!.id, sessionId: id };
}
async function goOffline(api: TestApi, slug: string, live: { channelId: string; sessionId: string }) {
  await api.deps.database.db.update(liveSession).set({ endedAt: new Date(), endReason: 'test' }).where(eq(liveSession.id, live.sessionId));
  await api.deps.bus.publish('channel.offline', { ...live, slug, reason: 'publisher left', peakViewers: 3 });
}

t('PUT/DELETE /api/channels/{slug}/follow follow and unfollow (both idempotent); counts follow along', async ({ owner, fan, other, api }) => {
  assert.equal((await api.client().get('/api/channels/followed/follow')).body, { following: false, followers: 0 });
  assert.equal((await fan.put('/api/channels/followed/follow')).body, { following: true, followers: 1 });
  assert.equal((await fan.put('/api/channels/followed/follow')).body, { following: true, followers: 1 }, 'again changes nothing');
  assert.equal((await other.put('/api/channels/followed/follow')).body, { following: true, followers: 2 });
  assert.is((await api.client().get('/api/channels/followed')).body.followers, 2, 'the channel shows its follower count');
  assert.equal((await other.get('/api/channels/followed/follow')).body, { following: true, followers: 2 });
  assert.equal((await other.delete('/api/channels/followed/follow')).body, { following: false, followers: 1 });
  assert.equal((await other.delete('/api/channels/followed/follow')).body, { following: false, followers: 1 });
  const list = await owner.get('/api/channels/followed/followers');
  assert.equal(list.body.items.map((f: any) => f.name), ['Fan']);
  assert.is(list.body.total, 1);
  assert.is((await fan.get('/api/channels/followed/followers')).status, 403, 'only the owner sees who follows');
});

t('following: anonymous is 401, an unknown channel 404, your own channel 409', async ({ owner, fan, api }) => {
  const anon = await api.client().put('/api/channels/followed/follow');
  assert.is(anon.status, 401);
  assert.match(anon.headers.get('content-type') ?? '', 'application/problem+json');
  assert.is((await fan.put('/api/channels/nope-nope/follow')).status, 404);
  const own = await owner.put('/api/channels/followed/follow');
  assert.is(own.status, 409);
  assert.match(own.body.detail, 'your own channel');
  assert.is((await api.client().get('/api/me/following')).status, 401);
});

t('GET /api/me/following lists followed channels, live ones first', async ({ fan, api }) => {
  await fan.put('/api/channels/second/follow'); // followed after "followed": newer
  let page = await fan.get('/api/me/following');
  assert.is(page.status, 200);
  assert.equal(page.body.items.map((c: any) => c.slug), ['second', 'followed'], 'most recently followed first');
  const live = await goLive(api, 'followed');
  page = await fan.get('/api/me/following');
  assert.equal(page.body.items.map((c: any) => c.slug), ['followed', 'second'], 'the live one first');
  assert.is(page.body.items[0].live.sessionId, live.sessionId);
  assert.is(page.body.total, 2);
  await goOffline(api, 'followed', live);
});

t('going live notifies every follower once: inbox entry, realtime event to online followers only, read/unread', async ({ owner, fan, other, api }) => {
  await fan.put('/api/channels/hooked/follow');
  const fanSocket = await chatSocket(api.base, fan);
  const otherSocket = await chatSocket(api.base, other); // does not follow "hooked"
  const heard: any[] = [];
  const strayed: any[] = [];
  fanSocket.on('notification', (n) => heard.push(n));
  otherSocket.on('notification', (n) => strayed.push(n));
  try {
    const before = (await fan.get('/api/me/notifications')).body.unread;
    const live = await goLive(api, 'hooked');
    await until(async () => heard.length, (n) => n === 1, 'the realtime notification');
    assert.is(heard[0].kind, 'channel.live');
    assert.equal(heard[0].channel, { slug: 'hooked', title: 'The hooked show' });
    assert.is(heard[0].liveSessionId, live.sessionId);
    const inbox = await fan.get('/api/me/notifications');
    assert.is(inbox.status, 200);
    assert.is(inbox.body.unread, before + 1);
    assert.equal(inbox.body.items[0], heard[0], 'the inbox holds what was sent');
    // the same event again (another API process heard it too) notifies no one twice
    await api.deps.bus.publish('channel.live', { channelId: live.channelId, slug: 'hooked', sessionId: live.sessionId, source: 'whip', codecs: [], startedAt: new Date().toISOString() });
    await sleep(300);
    assert.is(heard.length, 1);
    assert.is(strayed.length, 0, 'a non-follower heard nothing');
    assert.is((await fan.get('/api/me/notifications')).body.unread, before + 1);

    const read = await fan.post(`/api/me/notifications/${heard[0].id}/read`);
    assert.equal(read.body, { unread: before });
    assert.is((await fan.get('/api/me/notifications?unread=true')).body.items.some((n: any) => n.id === heard[0].id), false);
    assert.is((await other.post(`/api/me/notifications/${heard[0].id}/read`)).status, 404, "someone else's notification");
    assert.is((await fan.post('/api/me/notifications/not-an-id/read')).status, 400);
    await goOffline(api, 'hooked', live);
  } finally {
    fanSocket.disconnect();
    otherSocket.disconnect();
  }
});

t(`the fan-out goes in batches of ${FANOUT_BATCH}: 2,500 followers get one entry each; mark all read`, async ({ api, fan }) => {
  const { db } = api.deps.database;
  const [ch] = await db.select().from(channel).where(eq(channel.slug, 'fanout'));
  await db.execute(sql`insert into "user" (id, name, email, email_verified, created_at, updated_at)
    select 'bulk-' || g, 'Bulk ' || g, 'bulk-' || g || '@example.test', false, now(), now() from generate_series(1, 2500) g`);
  await db.execute(sql`insert into follow (user_id, channel_id) select 'bulk-' || g, ${ch!.id} from generate_series(1, 2500) g`);
  await fan.put('/api/channels/fanout/follow');
  const live = await goLive(api, 'fanout');
  const count = () => db.select({ n: sql<number>`count(*)::int` }).from(notification).where(eq(notification.liveSessionId, live.sessionId)).then((r) => r[0]!.n);
  await until(count, (n) => n === 2501, 'the fan-out to 2,501 followers', 30_000);
  const [done] = await until(
    () => db.select().from(job).where(eq(job.key, `notify.live:${live.sessionId}`)),
    (r) => r[0]?.doneAt != null,
    'the fan-out job to finish',
  );
  assert.ok(done!.cursor, 'it went in batches (a cursor was kept)');
  // the follower count is kept by triggers: bulk inserts and cascaded deletes included
  assert.is((await api.client().get('/api/channels/fanout')).body.followers, 2501);
  await db.execute(sql`delete from "user" where id in (select 'bulk-' || g from generate_series(1, 500) g)`);
  // deleted behind the API's back (an account deleted through the API forgets it itself: tests/api/read-cache.test.ts)
  await api.deps.reads.invalidateChannel('fanout');
  assert.is((await api.client().get('/api/channels/fanout')).body.followers, 2001, 'deleted accounts no longer count');
  const perUser = await db.execute(sql`select count(*)::int as n from notification where live_session_id = ${live.sessionId} group by user_id having count(*) > 1`);
  assert.is((perUser as unknown as { rows: unknown[] }).rows.length, 0, 'no follower notified twice');
  const all = await fan.post('/api/me/notifications/read-all');
  assert.ok(all.body.marked >= 1);
  assert.is((await fan.get('/api/me/notifications')).body.unread, 0);
  await goOffline(api, 'fanout', live);
});

t('GET /api/me/notifications pages with a cursor; a bad cursor is 400', async ({ fan }) => {
  const first = await fan.get('/api/me/notifications?limit=1');
  assert.is(first.body.items.length, 1);
  assert.ok(first.body.next);
  const second = await fan.get(`/api/me/notifications?limit=1&before=${encodeURIComponent(first.body.next)}`);
  assert.is(second.status, 200);
  assert.is.not(second.body.items[0]?.id, first.body.items[0].id);
  const bad = await fan.get('/api/me/notifications?before=yesterday');
  assert.is(bad.status, 400);
  assert.match(bad.body.detail, 'cursor');
});

/** A webhook receiver on loopback: answers with the next status of `answers` (then 200), records every request. */
async function receiver(answers: number[]) {
  const got: { headers: IncomingMessage['headers']; body: string; status: number; at: number }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const status = answers.shift() ?? 200;
      got.push({ headers: req.headers, body, status, at: performance.now() });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, close: () => new Promise((r) => server.close(r)) };
}

t('webhooks: signed per Standard Webhooks, retried with backoff after a failure, logged; a dead receiver ends as failed', async ({ owner, fan, api }) => {
  const flaky = await receiver([500]);
  const dead = await receiver([503, 503, 503, 503]);
  try {
    const created = await owner.post('/api/channels/hooked/webhooks', { url: flaky.url, events: ['channel.live', 'channel.offline'] });
    assert.is(created.status, 201, created.text);
    assert.match(created.body.secret, /^whsec_/);
    const hookId = created.body.id;
    const listed = await owner.get('/api/channels/hooked/webhooks');
    assert.is(listed.body.length, 1);
    assert.is(listed.body[0].secret, undefined, 'the secret is shown once');
    const deadHook = await owner.post('/api/channels/hooked/webhooks', { url: dead.url, events: ['channel.live'] });
    const paused = await owner.post('/api/channels/hooked/webhooks', { url: dead.url + '/paused', events: ['channel.live'] });
    assert.is((await owner.patch(`/api/channels/hooked/webhooks/${paused.body.id}`, { active: false })).body.active, false);

    const live = await goLive(api, 'hooked');
    await until(async () => flaky.got.length, (n) => n >= 2, 'the retried delivery');
    assert.is(flaky.got[0]!.status, 500);
    assert.is(flaky.got[1]!.status, 200);
    const [a, b] = flaky.got;
    assert.is(a!.headers['webhook-id'], b!.headers['webhook-id'], 'a retry is the same message');
    assert.is(a!.body, b!.body);
    // verified with the Standard Webhooks reference library
    const verified = new Webhook(created.body.secret).verify(b!.body, { 'webhook-id': b!.headers['webhook-id'] as string, 'webhook-timestamp': b!.headers['webhook-timestamp'] as string, 'webhook-signature': b!.headers['webhook-signature'] as string }) as any;
    assert.is(verified.type, 'channel.live');
    assert.is(verified.data.channel.slug, 'hooked');
    assert.is(verified.data.session.id, live.sessionId);
    assert.throws(() => new Webhook(deadHook.body.secret).verify(b!.body, b!.headers as Record<string, string>), 'another secret does not verify it');

    const log = await until(
      () => owner.get(`/api/channels/hooked/webhooks/${hookId}/deliveries`).then((r) => r.body),
      (d: any[]) => d[0]?.status === 'delivered',
      'the delivery log to show it delivered',
    );
    assert.is(log[0].attempts, 2);
    assert.is(log[0].responseStatus, 200);
    assert.is(log[0].event, 'channel.live');

    const deadLog = await until(
      () => owner.get(`/api/channels/hooked/webhooks/${deadHook.body.id}/deliveries`).then((r) => r.body),
      (d: any[]) => d[0]?.status === 'failed',
      'the dead receiver’s delivery to be given up',
    );
    assert.is(deadLog[0].attempts, 3, 'WEBHOOK_MAX_ATTEMPTS');
    assert.match(deadLog[0].lastError, '503');
    const [g1, g2] = [dead.got[1]!.at - dead.got[0]!.at, dead.got[2]!.at - dead.got[1]!.at];
    assert.ok(g1 >= 90 && g2 > g1, `backoff: ${g1.toFixed(0)} ms, then ${g2.toFixed(0)} ms`);
    assert.is((await owner.get(`/api/channels/hooked/webhooks/${paused.body.id}/deliveries`)).body.length, 0, 'a paused webhook gets nothing');

    await goOffline(api, 'hooked', live);
    await until(async () => flaky.got.length, (n) => n >= 3, 'the channel.offline delivery');
    assert.is(JSON.parse(flaky.got[2]!.body).type, 'channel.offline');
    assert.is(dead.got.length, 3, 'the dead hook did not ask for channel.offline');
  } finally {
    await flaky.close();
    await dead.close();
  }
});

t('webhooks: only the owner (or an admin) manages them; bad URLs and events are 400', async ({ owner, fan }) => {
  assert.is((await fan.get('/api/channels/hooked/webhooks')).status, 403);
  assert.is((await fan.post('/api/channels/hooked/webhooks', { url: 'http://127.0.0.1:9/x' })).status, 403);
  for (const body of [{ url: 'ftp://example.test/x' }, { url: 'not a url' }, { url: 'http://user:pw@example.test/x' }, { url: 'http://example.test/x', events: ['channel.exploded'] }, { url: 'http://example.test/x', events: [] }]) {
    const r = await owner.post('/api/channels/hooked/webhooks', body);
    assert.is(r.status, 400, JSON.stringify(body));
    assert.match(r.headers.get('content-type') ?? '', 'problem+json');
  }
  const ok = await owner.post('/api/channels/hooked/webhooks', { url: 'http://example.test/x' });
  assert.equal(ok.body.events, ['channel.live', 'channel.offline', 'vod.ready'], 'every event by default');
  assert.is((await owner.delete(`/api/channels/hooked/webhooks/${ok.body.id}`)).status, 204);
  assert.is((await owner.delete(`/api/channels/hooked/webhooks/${ok.body.id}`)).status, 404);
  assert.is((await fan.get(`/api/channels/hooked/webhooks/${ok.body.id}/deliveries`)).status, 403);
});

t('by default webhooks never reach loopback or private addresses: refused when registered, and on the address each delivery connects to', async () => {
  const api = await startTestApi({ WEBHOOK_MAX_ATTEMPTS: '1' });
  const target = await receiver([]);
  try {
    const owner = await api.client().signUp('Cautious');
    await owner.post('/api/channels', { slug: 'inside', title: 'Inside' });
    const port = new URL(target.url).port;
    for (const url of [target.url, `http://localhost:${port}/hook`, `http://[::ffff:7f00:1]:${port}/hook`, 'http://169.254.169.254/latest/meta-data']) {
      const r = await owner.post('/api/channels/inside/webhooks', { url, events: ['channel.live'] });
      assert.is(r.status, 400, url);
      assert.match(r.body.detail, 'private address');
    }
    // a URL that was fine when registered (a name, or registered while private addresses were allowed) is checked
    // again on every delivery: the address connected to decides
    const byName = await owner.post('/api/channels/inside/webhooks', { url: 'http://example.test/hook', events: ['channel.live'] });
    assert.is(byName.status, 201);
    const byIp = await owner.post('/api/channels/inside/webhooks', { url: 'http://example.test/hook2', events: ['channel.live'] });
    assert.is((await owner.patch(`/api/channels/inside/webhooks/${byName.body.id}`, { url: `http://localhost:${port}/hook` })).status, 400, 'a change is checked too');
    const { webhook } = await import('../../shared/db/index.ts');
    await api.deps.database.db.update(webhook).set({ url: `http://localhost:${port}/hook` }).where(eq(webhook.id, byName.body.id));
    await api.deps.database.db.update(webhook).set({ url: target.url }).where(eq(webhook.id, byIp.body.id));
    await goLive(api, 'inside');
    for (const hook of [byIp, byName]) {
      const [d] = await until(
        () => owner.get(`/api/channels/inside/webhooks/${hook.body.id}/deliveries`).then((r) => r.body),
        (list: any[]) => list[0]?.status === 'failed',
        'the refused delivery',
      );
      assert.match(d.lastError, /refused: .*private address/);
    }
    assert.is(target.got.length, 0, 'nothing reached the loopback receiver');
  } finally {
    await target.close();
    await api.stop();
  }
});

t.run();
