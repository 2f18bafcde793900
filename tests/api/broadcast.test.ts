// @runtime-matrix
// A broadcast's title and category (api/routes/broadcast.ts): only the channel's owner sets them, bounded like a
// channel's title; set before going live they are the next broadcast's, set while live they rename the recording in
// progress; the go-live notification carries the title; an ended broadcast's summary names its recording.
// (tests/live/studio-room.test.ts goes live for real: the SFU copies the title, the recorder names the VoD with it.)
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { channel, chatMessage, liveSession, notification, vod } from '../../shared/db/index.ts';
import { vodPrefix } from '../../shared/media.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { eventually, isProblem } from '../helpers/assertions.ts';

const t = suite<{ api: TestApi; owner: Client; other: Client }>('broadcast title');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Night Owl');
  ctx.other = await ctx.api.client().signUp('Passerby');
  for (const slug of ['owl', 'owl-live', 'owl-ended']) assert.is((await ctx.owner.post('/api/channels', { slug, title: 'Night Owl Radio' })).status, 201);
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

const body = { title: 'Vinyl night: side B', category: 'Music' };

/** A broadcast as the SFU starts one (its row with the next broadcast's title) and the recorder's VoD row for it. */
async function goLive(api: TestApi, slug: string, title: string) {
  const { db } = api.deps.database;
  const [ch] = await db.select().from(channel).where(eq(channel.slug, slug));
  const id = crypto.randomUUID();
  const vodId = crypto.randomUUID();
  const startedAt = new Date(Date.now() - 65_000);
  await db.insert(liveSession).values({ id, channelId: ch!.id, source: 'whip', startedAt, title });
  await db.insert(vod).values({ id: vodId, channelId: ch!.id, liveSessionId: id, title: 'Night Owl Radio', storagePrefix: vodPrefix(vodId), startedAt });
  return { channelId: ch!.id, sessionId: id, vodId, startedAt };
}

t('PUT /api/channels/{slug}/broadcast: 401 signed out, 403 for another user, 400 past the bounds, 200 for the owner', async ({ api, owner, other }) => {
  isProblem(await api.client().put('/api/channels/owl/broadcast', { json: body }), 401);
  isProblem(await other.put('/api/channels/owl/broadcast', { json: body }), 403);
  isProblem(await other.get('/api/channels/owl/broadcast'), 403);
  const long = await owner.put('/api/channels/owl/broadcast', { json: { ...body, title: 'x'.repeat(121) } });
  isProblem(long, 400);
  assert.match(long.body.errors[0].path, /^json\.title/);
  isProblem(await owner.put('/api/channels/owl/broadcast', { json: { ...body, category: 'c'.repeat(51) } }), 400);
  isProblem(await owner.put('/api/channels/owl/broadcast', { json: { ...body, title: 'bidi \u202e trick' } }), 400);
  isProblem(await owner.put('/api/channels/owl/broadcast', { json: { title: 'no category' } }), 400);
  const ok = await owner.put('/api/channels/owl/broadcast', { json: { title: '  Vinyl night: side B ', category: 'Music' } });
  assert.is(ok.status, 200);
  assert.equal(ok.body, { title: 'Vinyl night: side B', category: 'Music', live: null });
  assert.equal((await owner.get('/api/channels/owl/broadcast')).body, ok.body, 'kept for the next broadcast');
  const [row] = await api.deps.database.db.select({ t: channel.nextTitle, c: channel.nextCategory }).from(channel).where(eq(channel.slug, 'owl'));
  assert.equal(row, { t: 'Vinyl night: side B', c: 'Music' });
  assert.is((await owner.get('/api/channels/owl')).body.title, 'Night Owl Radio', "the channel's own title is untouched");
});

t('set while live, the title renames the broadcast and its recording in progress; the channel shows it', async ({ api, owner }) => {
  const live = await goLive(api, 'owl-live', 'First title');
  const ch = await api.client().get('/api/channels/owl-live');
  assert.is(ch.body.live.title, 'First title');
  const r = await owner.put('/api/channels/owl-live/broadcast', { json: { title: 'Second title', category: 'Talk' } });
  assert.is(r.status, 200);
  assert.is(r.body.title, 'Second title');
  assert.is(r.body.live.sessionId, live.sessionId);
  const after = await api.client().get('/api/channels/owl-live');
  assert.equal([after.body.live.title, after.body.live.category], ['Second title', 'Talk']);
  assert.is((await api.client().get(`/api/vods/${live.vodId}`)).body.title, 'Second title');
  // an empty title: the recording is named after the channel and its start again
  await owner.put('/api/channels/owl-live/broadcast', { json: { title: '', category: '' } });
  assert.match((await api.client().get(`/api/vods/${live.vodId}`)).body.title, /^Night Owl Radio · \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
});

t('the go-live notification carries the broadcast title', async ({ api, owner, other }) => {
  await owner.post('/api/channels', { slug: 'owl-notify', title: 'Night Owl Radio' });
  assert.is((await other.put('/api/channels/owl-notify/follow')).status, 200);
  const live = await goLive(api, 'owl-notify', 'Premiere night');
  await api.deps.bus.publish('channel.live', { channelId: live.channelId, slug: 'owl-notify', sessionId: live.sessionId, source: 'whip', codecs: ['VP8'], startedAt: live.startedAt.toISOString() });
  await eventually(() => api.deps.database.db.select().from(notification).where(eq(notification.liveSessionId, live.sessionId)), (r) => r.length === 1, 'the notification');
  const inbox = await other.get('/api/me/notifications');
  assert.equal(inbox.body.items[0].channel, { slug: 'owl-notify', title: 'Night Owl Radio', broadcast: 'Premiere night' });
});

t("GET /api/channels/{slug}/broadcasts/{id}: an ended broadcast's summary with its recording; owner only", async ({ api, owner, other }) => {
  const live = await goLive(api, 'owl-ended', 'Last call');
  const { db } = api.deps.database;
  const me: string = (await owner.get('/api/auth/get-session')).body.user.id;
  await db.insert(chatMessage).values([1, 2, 3].map(() => ({ id: crypto.randomUUID(), channelId: live.channelId, liveSessionId: live.sessionId, userId: me, body: 'hi' })));
  await db.update(liveSession).set({ endedAt: new Date(live.startedAt.getTime() + 65_000), peakViewers: 7 }).where(eq(liveSession.id, live.sessionId));
  await db.update(vod).set({ status: 'ready' }).where(eq(vod.id, live.vodId));
  const path = `/api/channels/owl-ended/broadcasts/${live.sessionId}`;
  isProblem(await api.client().get(path), 401);
  isProblem(await other.get(path), 403);
  isProblem(await owner.get(`/api/channels/owl/broadcasts/${live.sessionId}`), 404, /broadcast/);
  isProblem(await owner.get('/api/channels/owl-ended/broadcasts/not-a-uuid'), 400);
  const r = await owner.get(path);
  assert.is(r.status, 200);
  assert.equal(
    { ...r.body, startedAt: undefined, endedAt: undefined },
    { sessionId: live.sessionId, title: 'Last call', category: '', startedAt: undefined, endedAt: undefined, durationSeconds: 65, peakViewers: 7, chatMessages: 3, vod: { id: live.vodId, status: 'ready' } },
  );
});

t.run();
