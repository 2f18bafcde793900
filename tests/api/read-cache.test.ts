// @runtime-matrix
// @db-matrix
// The read cache of public answers (api/read-cache.ts) never answers what a write has changed: a channel's JSON after
// an edit and after the SFU's go-live/offline events, its VoD list after a visibility change, a chat join's history
// after a message — on the cache in memory and in Redis, where two APIs on one database (as two API processes) see
// each other's writes. ETags answer 304 until a write changes the body; what depends on the caller (the owner's
// private VoDs) never reaches anyone else. The media plane is elsewhere (SFU_URL): the test publishes its events.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { channel, liveSession, subscription, subscriptionTier, vod } from '../../shared/db/index.ts';
import { eventually } from '../helpers/assertions.ts';
import { runtime, startTestApi, dbTarget, type Client, type TestApi } from '../helpers/api.ts';
import { chatSocket } from '../helpers/chat.ts';

const REDIS_URL = process.env.GLINT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

type Ctx = { api: TestApi; other?: TestApi; owner: Client; viewer: Client };

const channelId = async (api: TestApi, slug: string) => (await api.deps.database.db.select({ id: channel.id }).from(channel).where(eq(channel.slug, slug)))[0]!.id;

/** A ready, public VoD of the channel, written as the recorder would. */
async function recording(api: TestApi, slug: string, title: string): Promise<string> {
  const id = crypto.randomUUID();
  await api.deps.database.db.insert(vod).values({ id, channelId: await channelId(api, slug), title, status: 'ready', storagePrefix: `vod/${id}/` });
  await api.deps.bus.publish('vod.ready', { vodId: id, channelId: await channelId(api, slug), sessionId: null, durationMs: 6000 });
  return id;
}

function cacheSuite(kind: 'memory' | 'redis') {
  const env: Record<string, string> = { SFU_URL: 'http://127.0.0.1:9', CHAT_USER_MESSAGES: '1000', CHAT_ADDRESS_MESSAGES: '1000' };
  if (kind === 'redis') Object.assign(env, { REDIS_URL, REDIS_PREFIX: `glint-test-rc-${process.pid}-${Math.random().toString(36).slice(2, 8)}:` });
  const t = suite<Ctx>(`read cache in ${kind} (${runtime}, ${dbTarget})`);
  let n = 0;
  const slugOf = (base: string) => `${base}-${kind.slice(0, 3)}-${++n}`;

  t.before(async (ctx) => {
    ctx.api = await startTestApi(env);
    assert.is(ctx.api.deps.reads.cache.kind, kind);
    // a second API on the same database: with Redis, as a second API process would be
    if (kind === 'redis') ctx.other = await startTestApi(env, { sameDatabaseAs: ctx.api });
    ctx.owner = await ctx.api.client().signUp('Owner');
    ctx.viewer = await ctx.api.client().signUp('Viewer');
  });
  t.after(async (ctx) => {
    await ctx.other?.stop();
    await ctx.api?.stop();
  });

  t('GET /api/channels/:slug answers an edit on the next read, with a new ETag; 304 while unchanged', async (ctx) => {
    const slug = slugOf('edited');
    assert.is((await ctx.owner.post('/api/channels', { slug, title: 'Before' })).status, 201);
    const first = await ctx.viewer.get(`/api/channels/${slug}`);
    assert.is(first.body.title, 'Before');
    const etag = first.headers.get('etag')!;
    assert.ok(etag, 'an ETag');
    assert.is(first.headers.get('cache-control'), 'no-cache');
    const again = await ctx.viewer.get(`/api/channels/${slug}`, { headers: { 'if-none-match': etag } });
    assert.is(again.status, 304);
    assert.is(again.text, '');
    assert.is((await ctx.owner.patch(`/api/channels/${slug}`, { title: 'After' })).status, 200);
    const after = await ctx.viewer.get(`/api/channels/${slug}`, { headers: { 'if-none-match': etag } });
    assert.is(after.status, 200, 'the old ETag no longer matches');
    assert.is(after.body.title, 'After');
    assert.is.not(after.headers.get('etag'), etag);
  });

  t('a follower who deletes their account no longer counts on the next read (their follows go with the account)', async (ctx) => {
    const slug = slugOf('gone-fan');
    assert.is((await ctx.owner.post('/api/channels', { slug, title: 'Fans' })).status, 201);
    const fan = await ctx.api.client().signUp('Leaving Fan');
    assert.is((await fan.put(`/api/channels/${slug}/follow`)).status < 300, true);
    assert.is((await ctx.viewer.get(`/api/channels/${slug}`)).body.followers, 1);
    assert.is((await fan.post('/api/auth/delete-user', { password: 'correct horse battery' })).status, 200);
    assert.is((await ctx.viewer.get(`/api/channels/${slug}`)).body.followers, 0);
  });

  t('a rename: the old slug is a 404 at once, the new one answers', async (ctx) => {
    const slug = slugOf('renamed');
    assert.is((await ctx.owner.post('/api/channels', { slug, title: 'Renamed' })).status, 201);
    assert.is((await ctx.viewer.get(`/api/channels/${slug}`)).status, 200);
    assert.is((await ctx.owner.patch(`/api/channels/${slug}`, { slug: `${slug}-new` })).status, 200);
    assert.is((await ctx.viewer.get(`/api/channels/${slug}`)).status, 404);
    assert.is((await ctx.viewer.get(`/api/channels/${slug}-new`)).body.slug, `${slug}-new`);
  });

  t('go live and offline (bus events of the SFU) show in the channel; viewer counts are merged in', async (ctx) => {
    const slug = slugOf('live');
    assert.is((await ctx.owner.post('/api/channels', { slug, title: 'Live' })).status, 201);
    const id = await channelId(ctx.api, slug);
    assert.is((await ctx.viewer.get(`/api/channels/${slug}`)).body.live, null);
    const sessionId = crypto.randomUUID();
    const startedAt = new Date();
    await ctx.api.deps.database.db.insert(liveSession).values({ id: sessionId, channelId: id, source: 'whip', codecs: ['video/VP8'], startedAt });
    await ctx.api.deps.bus.publish('channel.live', { channelId: id, slug, sessionId, source: 'whip', codecs: ['video/VP8'], startedAt: startedAt.toISOString() });
    const live = await eventually(() => ctx.viewer.get(`/api/channels/${slug}`), (r) => r.body.live?.sessionId === sessionId, 'the go-live in the channel JSON');
    // a count the SFU publishes without the API writing anything: in the answer, and in its ETag
    await ctx.api.deps.bus.publish('channel.viewers', { channelId: id, slug, sessionId, viewers: 42 });
    const counted = await eventually(() => ctx.viewer.get(`/api/channels/${slug}`), (r) => r.body.live?.viewers === 42, 'the viewer count');
    assert.is.not(counted.headers.get('etag'), live.headers.get('etag'));
    if (ctx.other) {
      const there = ctx.other.client();
      await eventually(() => there.get(`/api/channels/${slug}`), (r) => r.body.live?.viewers === 42, 'the count on the other API');
    }
    await ctx.api.deps.database.db.update(liveSession).set({ endedAt: new Date() }).where(eq(liveSession.id, sessionId));
    await ctx.api.deps.bus.publish('channel.offline', { channelId: id, slug, sessionId, reason: 'ended', peakViewers: 42 });
    await eventually(() => ctx.viewer.get(`/api/channels/${slug}`), (r) => r.body.live === null, 'the end of the broadcast');
  });

  t('GET /api/channels/:slug/vods: a visibility change is on the next read; the owner sees private ones, nobody else', async (ctx) => {
    const slug = slugOf('vods');
    assert.is((await ctx.owner.post('/api/channels', { slug, title: 'VoDs' })).status, 201);
    const vodId = await recording(ctx.api, slug, 'The show');
    const anonymous = ctx.api.client();
    const listed = await eventually(() => anonymous.get(`/api/channels/${slug}/vods`), (r) => r.body.items.length === 1, 'the recording listed');
    assert.is(listed.headers.get('cache-control'), 'private, no-cache');
    assert.match(listed.headers.get('vary') ?? '', /cookie/i);
    const etag = listed.headers.get('etag')!;
    assert.is((await anonymous.get(`/api/channels/${slug}/vods`, { headers: { 'if-none-match': etag } })).status, 304);
    assert.is((await ctx.owner.patch(`/api/vods/${vodId}`, { visibility: 'private' })).status, 200);
    for (const who of [anonymous, ctx.viewer]) {
      const r = await who.get(`/api/channels/${slug}/vods`, { headers: { 'if-none-match': etag } });
      assert.is(r.status, 200);
      assert.equal(r.body.items, [], 'a private VoD is not listed for anyone but its owner');
    }
    // the owner's answer (with the private one) is theirs only: the next anonymous read still lists nothing
    assert.is((await ctx.owner.get(`/api/channels/${slug}/vods`)).body.items[0]?.visibility, 'private');
    assert.equal((await anonymous.get(`/api/channels/${slug}/vods`)).body.items, []);
    assert.is((await ctx.owner.patch(`/api/vods/${vodId}`, { title: 'Renamed show', visibility: 'public' })).status, 200);
    assert.is((await anonymous.get(`/api/channels/${slug}/vods`)).body.items[0]?.title, 'Renamed show');
  });

  t("a subscriber's signed playlist URL reaches them only: never the anonymous answer, never another user's", async (ctx) => {
    const slug = slugOf('subs');
    assert.is((await ctx.owner.post('/api/channels', { slug, title: 'Subs' })).status, 201);
    const id = await channelId(ctx.api, slug);
    const vodId = await recording(ctx.api, slug, 'For subscribers');
    assert.is((await ctx.owner.patch(`/api/vods/${vodId}`, { visibility: 'subscribers' })).status, 200);
    const subscriber = await ctx.api.client().signUp('Subscriber');
    const { db } = ctx.api.deps.database;
    const [tier] = await db.insert(subscriptionTier).values({ channelId: id, name: 'Tier 1', priceCents: 499 }).returning();
    await db.insert(subscription).values({ userId: subscriber.user!.id, channelId: id, tierId: tier!.id, provider: 'test' });
    const anonymous = ctx.api.client();
    // in each order: the anonymous answer first (then cached), the subscriber's, and a signed-in stranger's
    for (let round = 0; round < 2; round++) {
      assert.is((await anonymous.get(`/api/channels/${slug}/vods`)).body.items[0]?.signedPlaylistUrl, null);
      const mine = (await subscriber.get(`/api/channels/${slug}/vods`)).body.items[0];
      assert.match(mine?.signedPlaylistUrl ?? '', /token=/, "the subscriber's own signed URL");
      assert.is((await ctx.viewer.get(`/api/channels/${slug}/vods`)).body.items[0]?.signedPlaylistUrl, null, 'not the subscriber’s');
    }
    // the channel's JSON is one answer for all: nothing in it is the caller's
    const [a, b] = await Promise.all([anonymous.get(`/api/channels/${slug}`), subscriber.get(`/api/channels/${slug}`)]);
    assert.is(a.text, b.text);
    assert.is(a.headers.get('etag'), b.headers.get('etag'));
  });

  t('a chat join receives the message sent just before it (sent on the other API with Redis)', async (ctx) => {
    const slug = slugOf('chat');
    assert.is((await ctx.owner.post('/api/channels', { slug, title: 'Chat' })).status, 201);
    const sendTo = ctx.other ?? ctx.api;
    const reader = await chatSocket(ctx.api.base);
    const writerClient = ctx.other ? await ctx.other.client().signUp('Writer') : ctx.viewer;
    const writer = await chatSocket(sendTo.base, writerClient);
    try {
      const empty = await reader.timeout(5000).emitWithAck('join', { channel: slug });
      assert.equal(empty.history, [], 'nothing said yet (and now cached)');
      assert.is((await writer.timeout(5000).emitWithAck('join', { channel: slug })).ok, true);
      const sent = await writer.timeout(5000).emitWithAck('send', { channel: slug, text: 'first!' });
      assert.is(sent.ok, true);
      const late = await chatSocket(ctx.api.base);
      try {
        const joined = await late.timeout(5000).emitWithAck('join', { channel: slug });
        assert.equal(joined.history.map((m: { text: string }) => m.text), ['first!']);
      } finally {
        late.disconnect();
      }
    } finally {
      reader.disconnect();
      writer.disconnect();
    }
  });

  if (kind === 'redis') {
    t('two APIs sharing Redis: an edit and a new VoD made through one are answered by the other at once', async (ctx) => {
      const slug = slugOf('shared');
      assert.is((await ctx.owner.post('/api/channels', { slug, title: 'One' })).status, 201);
      const there = ctx.other!.client();
      assert.is((await there.get(`/api/channels/${slug}`)).body.title, 'One');
      assert.equal((await there.get(`/api/channels/${slug}/vods`)).body.items, []);
      assert.is((await ctx.owner.patch(`/api/channels/${slug}`, { title: 'Two' })).status, 200);
      assert.is((await there.get(`/api/channels/${slug}`)).body.title, 'Two');
      const vodId = await recording(ctx.api, slug, 'Shown there');
      await eventually(() => there.get(`/api/channels/${slug}/vods`), (r) => r.body.items[0]?.id === vodId, 'the VoD on the other API');
      assert.is((await ctx.owner.patch(`/api/vods/${vodId}`, { visibility: 'unlisted' })).status, 200);
      assert.equal((await there.get(`/api/channels/${slug}/vods`)).body.items, [], 'unlisted at once on the other API');
    });
  }

  t('every response was checked against the OpenAPI document', (ctx) => {
    assert.equal(ctx.owner.unchecked, []);
    assert.equal(ctx.viewer.unchecked, []);
  });

  return t;
}

cacheSuite('memory').run();
cacheSuite('redis').run();
