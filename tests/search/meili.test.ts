// @db-matrix
// @runtime-matrix
// Search through Meilisearch (MEILI_URL): the adapter, the outbox sync worker and reindex, against a FAKE Meilisearch
// (tests/helpers/meili-fake.ts; the real server cannot be installed here).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { liveSession, searchOutbox, vod } from '../../shared/db/index.ts';
import { MEILI_SETTINGS } from '../../shared/search/MeiliSearch.ts';
import { reindex } from '../../shared/search/index.ts';
import { SearchSync } from '../../shared/search/SearchSync.ts';
import { createLogger } from '../../shared/logger.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { startMeiliFake, type MeiliFake } from '../helpers/meili-fake.ts';

const INDEX = 'glint_test';
const t = suite<{ api: TestApi; meili: MeiliFake; owner: Client; anon: Client }>('search (Meilisearch adapter, fake server)');

t.before(async (ctx) => {
  ctx.meili = await startMeiliFake({ apiKey: 'test-master-key' });
  ctx.api = await startTestApi({ MEILI_URL: ctx.meili.url, MEILI_API_KEY: 'test-master-key', MEILI_INDEX: INDEX });
  ctx.owner = await ctx.api.client().signUp('Meili');
  ctx.anon = ctx.api.client();
});
t.after(async (ctx) => {
  await ctx.api?.stop();
  await ctx.meili?.close();
});

const slugs = (r: { body: { items: { channel: { slug: string } }[] } }) => r.body.items.map((h) => h.channel.slug);
const docs = (meili: MeiliFake) => meili.indexes.get(INDEX)?.docs ?? new Map();

t('the index is created with its searchable, filterable and sortable attributes', async ({ api, meili, anon }) => {
  const r = await anon.get('/api/search?q=anything');
  assert.is(r.status, 200);
  assert.is(r.body.engine, 'meilisearch');
  assert.is(api.deps.search.kind, 'meilisearch');
  const idx = meili.indexes.get(INDEX)!;
  assert.is(idx.primaryKey, 'id');
  assert.equal(idx.settings.searchableAttributes, MEILI_SETTINGS.searchableAttributes);
  assert.equal(idx.settings.filterableAttributes, ['kind', 'live', 'categoryKey', 'date']);
  assert.equal(idx.settings.sortableAttributes, ['date', 'live']);
});

t('the sync worker sends created, changed and deleted channels and VoDs', async ({ api, meili, owner, anon }) => {
  const created = await owner.post('/api/channels', { slug: 'meili-one', title: 'Night stream radio', category: 'Music', tags: ['lofi'] });
  assert.is(created.status, 201);
  await api.searchSync.drain();
  const doc = docs(meili).get(`channel-${created.body.id}`);
  assert.ok(doc, 'the channel is in the index');
  assert.is(doc.title, 'Night stream radio');
  assert.is(doc.categoryKey, 'music');
  assert.equal(slugs(await anon.get('/api/search?q=strem')), ['meili-one'], 'typos are the engine’s (here the fake’s)');

  const vodId = randomUUID();
  await api.deps.database.db.insert(vod).values({ id: vodId, channelId: created.body.id, title: 'Tuesday session', status: 'ready', storagePrefix: `vods/${vodId}` });
  await owner.patch('/api/channels/meili-one', { title: 'Morning stream radio' });
  await api.searchSync.drain();
  assert.is(docs(meili).get(`channel-${created.body.id}`).title, 'Morning stream radio');
  assert.is(docs(meili).get(`vod-${vodId}`).channelTitle, 'Morning stream radio', "a VoD document follows its channel's changes");
  const vods = await anon.get('/api/search?q=tuesday&type=vod');
  assert.equal(vods.body.items.map((h: any) => [h.kind, h.id]), [['vod', vodId]]);
  assert.is((await anon.get('/api/search?q=tuesday&type=channel')).body.total, 0, 'filters are sent as Meilisearch filter expressions');
  assert.is((await anon.get('/api/search?q=radio&type=channel&category=MUSIC')).body.total, 1);

  assert.is((await owner.delete('/api/channels/meili-one')).status, 204);
  await api.searchSync.drain();
  assert.not.ok(docs(meili).has(`channel-${created.body.id}`));
  assert.not.ok(docs(meili).has(`vod-${vodId}`), 'its VoDs are removed too');
  assert.is((await anon.get('/api/search?q=radio')).body.total, 0);
});

t('a live broadcast is listed once (its channel, live), not also as its recording in progress', async ({ api, owner, anon }) => {
  const { db } = api.deps.database;
  const ch = (await owner.post('/api/channels', { slug: 'meili-once', title: 'Egret watch' })).body;
  const yesterday = randomUUID();
  await db.insert(vod).values({ id: yesterday, channelId: ch.id, title: 'Egret watch, yesterday', status: 'ready', startedAt: new Date(Date.now() - 86_400_000), storagePrefix: `vods/${yesterday}` });
  const sessionId = randomUUID();
  await db.insert(liveSession).values({ id: sessionId, channelId: ch.id, source: 'whip' });
  const recording = randomUUID();
  await db.insert(vod).values({ id: recording, channelId: ch.id, title: 'Egret watch', status: 'recording', storagePrefix: `vods/${recording}` });
  await api.searchSync.drain();
  const hits = (r: any) => r.body.items.map((h: any) => `${h.kind} ${h.id}`).sort();

  const all = await anon.get('/api/search?q=egret');
  assert.equal(hits(all), [`live ${ch.id}`, `vod ${yesterday}`].sort());
  assert.is(all.body.total, 2, 'the total counts the broadcast once too');
  assert.equal(hits(await anon.get('/api/search?q=egrett%20watch')), hits(all), 'with a typo as well');
  assert.equal(hits(await anon.get('/api/search?q=egret&live=true')), [`live ${ch.id}`]);
  assert.equal(hits(await anon.get('/api/search?q=egret&type=vod')), [`vod ${recording}`, `vod ${yesterday}`].sort(), 'among the videos, the recording in progress is one');

  await db.update(liveSession).set({ endedAt: new Date() }).where(eq(liveSession.id, sessionId));
  await db.update(vod).set({ status: 'ready' }).where(eq(vod.id, recording));
  await api.searchSync.drain();
  assert.equal(hits(await anon.get('/api/search?q=egret')), [`channel ${ch.id}`, `vod ${recording}`, `vod ${yesterday}`].sort(), 'once ended: the channel and both recordings');
});

t('while Meilisearch fails, changes wait in the outbox; none is lost, and replays change nothing', async ({ api, meili, owner }) => {
  const { db } = api.deps.database;
  const ch = await owner.post('/api/channels', { slug: 'meili-outage', title: 'Before the outage' });
  await api.searchSync.drain();
  meili.failTasks = true;
  await owner.patch('/api/channels/meili-outage', { title: 'During the outage' });
  await owner.patch('/api/channels/meili-outage', { description: 'still down' });
  const refused = await api.searchSync.drain().then(() => null, (err: Error) => err);
  assert.match(String(refused?.message), /failed/, 'a failed task is not taken for done');
  assert.is((await db.select().from(searchOutbox).where(eq(searchOutbox.refId, ch.body.id))).length, 2, 'the outbox kept both changes');
  assert.is(docs(meili).get(`channel-${ch.body.id}`).title, 'Before the outage');
  meili.failTasks = false;
  await api.searchSync.drain();
  const doc = docs(meili).get(`channel-${ch.body.id}`);
  assert.is(doc.title, 'During the outage');
  assert.is(doc.description, 'still down');
  assert.is((await db.select().from(searchOutbox)).length, 0);
  // the same change applied again (a replay after a crash between apply and delete) leaves the same document
  await db.insert(searchOutbox).values({ kind: 'channel', refId: ch.body.id });
  await api.searchSync.drain();
  assert.equal(docs(meili).get(`channel-${ch.body.id}`), doc);
});

t('two workers on one database (two API processes) apply every change once between them, in order', async ({ api, meili, owner }) => {
  const other = new SearchSync(api.deps.database.db, api.deps.search, createLogger('silent'), { singleProcess: api.deps.database.kind === 'pglite' });
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) ids.push((await owner.post('/api/channels', { slug: `meili-pair-${i}`, title: `Pair ${i}` })).body.id);
  for (let i = 0; i < 12; i += 3) await owner.patch(`/api/channels/meili-pair-${i}`, { title: `Pair ${i} renamed` });
  await Promise.all([api.searchSync.drain(), other.drain(), api.searchSync.drain()]);
  await other.close();
  ids.forEach((id, i) => assert.is(docs(meili).get(`channel-${id}`)?.title, i % 3 === 0 ? `Pair ${i} renamed` : `Pair ${i}`));
  assert.is((await api.deps.database.db.select().from(searchOutbox)).length, 0);
});

t('the worker applies on its own, without being asked', async ({ meili, owner }) => {
  const r = await owner.post('/api/channels', { slug: 'meili-auto', title: 'Hands off' });
  const deadline = Date.now() + 5_000;
  while (!docs(meili).has(`channel-${r.body.id}`) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  assert.ok(docs(meili).has(`channel-${r.body.id}`), 'indexed within 5 s by the polling worker');
});

t('reindex empties the index and sends every document again', async ({ api, meili, owner }) => {
  await owner.post('/api/channels', { slug: 'meili-reindex', title: 'Reindexed' });
  await api.searchSync.drain();
  docs(meili).set('channel-00000000-0000-0000-0000-000000000000', { id: 'channel-00000000-0000-0000-0000-000000000000', title: 'stale' });
  const { documents } = await reindex(api.deps.database.db, api.deps.search);
  assert.ok(documents >= 2);
  assert.is(docs(meili).size, documents);
  assert.not.ok(docs(meili).has('channel-00000000-0000-0000-0000-000000000000'), 'what the database does not have is gone');
  assert.ok([...docs(meili).values()].some((d) => d.title === 'Reindexed'));
});

t('bad parameters are still 400s, and a query with quotes reaches Meilisearch as a literal', async ({ anon, meili }) => {
  assert.is((await anon.get('/api/search?type=nope')).status, 400);
  const r = await anon.get(`/api/search?q=x&category=${encodeURIComponent('Rock "n" \\ Roll')}`);
  assert.is(r.status, 200, r.text);
  assert.ok(meili.requests.every((line) => !line.startsWith('GET /keys')), 'no admin endpoints used');
});

t('while Meilisearch is down, search is a 503 problem to retry, and writes still succeed', async ({ api, meili, owner, anon }) => {
  meili.down = true;
  try {
    const r = await anon.get('/api/search?q=anything');
    assert.is(r.status, 503);
    assert.is(r.headers.get('content-type'), 'application/problem+json');
    assert.match(r.body.detail, /try again/);
    assert.is((await owner.post('/api/channels', { slug: 'meili-down', title: 'Written while down' })).status, 201);
  } finally {
    meili.down = false;
  }
  await api.searchSync.drain();
  assert.equal(slugs(await anon.get('/api/search?q=written')), ['meili-down']);
});

t('every response matched the OpenAPI document', ({ owner, anon }) => {
  assert.equal([...owner.unchecked, ...anon.unchecked], []);
});

t.run();
