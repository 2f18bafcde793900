// @db-matrix
// @runtime-matrix
// Search on the default implementation (PostgreSQL full text + pg_trgm over search_doc), through the HTTP API.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { liveSession, searchDoc, searchOutbox, vod } from '../../shared/db/index.ts';
import { reindex } from '../../shared/search/index.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';

const t = suite<{ api: TestApi; owner: Client; anon: Client }>('search (PostgreSQL)');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Searcher');
  ctx.anon = ctx.api.client();
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

const slugs = (r: { body: { items: { channel: { slug: string } }[] } }) => r.body.items.map((h) => h.channel.slug);

async function create(owner: Client, body: Record<string, unknown>) {
  const r = await owner.post('/api/channels', body);
  assert.is(r.status, 201, r.text);
  return r.body as { id: string; slug: string };
}

/** A recording row, as the recorder writes it. */
async function addVod(api: TestApi, channelId: string, title: string, startedAt = new Date(), status: 'recording' | 'ready' | 'failed' = 'ready') {
  const id = randomUUID();
  await api.deps.database.db.insert(vod).values({ id, channelId, title, status, startedAt, storagePrefix: `vods/${id}` });
  return id;
}

t('an exact title ranks above a title word, which ranks above a description mention', async ({ owner, anon }) => {
  await create(owner, { slug: 'rank-desc', title: 'Sunday chill', description: 'Mostly we talk about the marathon speedrun scene' });
  await create(owner, { slug: 'rank-word', title: 'Marathon speedrun practice' });
  await create(owner, { slug: 'rank-exact', title: 'Marathon Speedrun' });
  const r = await anon.get('/api/search?q=marathon%20speedrun');
  assert.is(r.status, 200);
  assert.equal(slugs(r).slice(0, 3), ['rank-exact', 'rank-word', 'rank-desc']);
  assert.ok(r.body.items[0].score > r.body.items[1].score && r.body.items[1].score > r.body.items[2].score, 'scores strictly decrease');
  assert.is(r.body.engine, 'postgres');
});

t('tiers: title matches, then category or tag matches, then description matches; live first within a tier', async ({ api, owner, anon }) => {
  const older = await create(owner, { slug: 'tier-tag-old', title: 'Evening one', tags: ['ocelot'] });
  await create(owner, { slug: 'tier-desc', title: 'Evening two', description: 'an ocelot appears' });
  await create(owner, { slug: 'tier-tag-new', title: 'Evening three', category: 'Ocelot fans' });
  await create(owner, { slug: 'tier-title', title: 'Ocelot hour' });
  const before = await anon.get('/api/search?q=ocelot');
  assert.equal(slugs(before), ['tier-title', 'tier-tag-new', 'tier-tag-old', 'tier-desc'], 'newest first among the tag and category matches');
  await api.deps.database.db.insert(liveSession).values({ id: randomUUID(), channelId: older.id, source: 'whip' });
  const after = await anon.get('/api/search?q=ocelot');
  assert.equal(slugs(after), ['tier-title', 'tier-tag-old', 'tier-tag-new', 'tier-desc'], 'a live channel first within its tier');
});

t('totals are exact up to 1,000 and say 1,000 beyond', async ({ api, anon }) => {
  const [owner] = await api.deps.database.db.execute(sql`select id from "user" limit 1`).then((r) => (r as unknown as { rows: { id: string }[] }).rows);
  await api.deps.database.db.execute(
    sql`insert into channel (owner_id, slug, title) select ${owner!.id}, 'many-' || i, 'Axolotl number ' || i from generate_series(1, 1005) as i`,
  );
  const r = await anon.get('/api/search?q=axolotl&limit=5&offset=995');
  assert.is(r.body.total, 1000);
  assert.is(r.body.items.length, 5, 'pages reach as far as the total');
  assert.is((await anon.get('/api/search?q=axolotl%20number%201004')).body.items[0].channel.slug, 'many-1004');
});

t('a typo still finds the word ("strem" finds "stream"), and a half-typed word finds it by prefix', async ({ owner, anon }) => {
  await create(owner, { slug: 'cozy-corner', title: 'Cozy evening stream', category: 'Just Chatting' });
  assert.ok(slugs(await anon.get('/api/search?q=strem')).includes('cozy-corner'), 'one letter missing');
  assert.ok(slugs(await anon.get('/api/search?q=cozy%20evenign')).includes('cozy-corner'), 'two letters swapped');
  assert.ok(slugs(await anon.get('/api/search?q=cozy%20eve')).includes('cozy-corner'), 'prefix');
  assert.ok(slugs(await anon.get('/api/search?q=chatting')).includes('cozy-corner'), 'category words are searched');
  assert.is((await anon.get('/api/search?q=xylophone')).body.total, 0, 'nothing close: no hits');
});

t('tags and descriptions are searched; stemming finds "streams" for "streaming"', async ({ owner, anon }) => {
  await create(owner, { slug: 'tagged-one', title: 'Evening show', tags: ['retrogaming'], description: 'We play old streams of consoles' });
  assert.equal(slugs(await anon.get('/api/search?q=retrogaming')), ['tagged-one']);
  assert.ok(slugs(await anon.get('/api/search?q=consoles%20streaming')).includes('tagged-one'));
});

t('filters: type, live, category (any case) and date range', async ({ api, owner, anon }) => {
  const games = await create(owner, { slug: 'filter-games', title: 'Filter night', category: 'Games' });
  await create(owner, { slug: 'filter-music', title: 'Filter night', category: 'Music' });
  const old = await addVod(api, games.id, 'Filter night, the first one', new Date('2025-01-10T20:00:00Z'));
  const recent = await addVod(api, games.id, 'Filter night, last week', new Date('2026-11-18T20:00:00Z'));
  await addVod(api, games.id, 'Filter night that failed', new Date('2026-11-19T20:00:00Z'), 'failed');
  const all = await anon.get('/api/search?q=filter%20night&limit=50');
  assert.is(all.body.total, 4, 'two channels and two VoDs; a failed recording is not searchable');

  const vods = await anon.get('/api/search?q=filter%20night&type=vod');
  assert.equal(vods.body.items.map((h: any) => h.id).sort(), [old, recent].sort());
  assert.ok(vods.body.items.every((h: any) => h.kind === 'vod' && h.channel.slug === 'filter-games'));

  assert.equal(slugs(await anon.get('/api/search?q=filter%20night&type=channel&category=games')), ['filter-games']);
  assert.equal((await anon.get('/api/search?q=filter&category=MUSIC')).body.items.map((h: any) => h.kind), ['channel']);

  const november = await anon.get('/api/search?q=filter&type=vod&from=2026-11-01&to=2026-11-30T23:59:59Z');
  assert.equal(november.body.items.map((h: any) => h.id), [recent]);
  assert.equal((await anon.get('/api/search?q=filter&type=vod&to=2025-12-31')).body.items.map((h: any) => h.id), [old]);
  assert.equal((await anon.get('/api/search?q=filter&type=vod&from=2026-11-18&to=2026-11-18')).body.items.map((h: any) => h.id), [recent], 'a date as the end of a range includes that day');

  // live: a broadcast starts (as the SFU records it) — the channel becomes a live stream at once
  const sessionId = randomUUID();
  await api.deps.database.db.insert(liveSession).values({ id: sessionId, channelId: games.id, source: 'whip' });
  const live = await anon.get('/api/search?q=filter&live=true');
  assert.equal(live.body.items.map((h: any) => [h.kind, h.channel.slug]), [['live', 'filter-games']]);
  assert.equal(slugs(await anon.get('/api/search?q=filter&type=live')), ['filter-games']);
  assert.ok(!slugs(await anon.get('/api/search?q=filter&type=channel&live=false')).includes('filter-games'));
  await api.deps.database.db.update(liveSession).set({ endedAt: new Date() }).where(eq(liveSession.id, sessionId));
  assert.is((await anon.get('/api/search?q=filter&live=true')).body.total, 0, 'and stops being one when it ends');
});

t('a live broadcast is listed once (its channel, live), not also as its recording in progress', async ({ api, owner, anon }) => {
  const { db } = api.deps.database;
  const ch = await create(owner, { slug: 'once-live', title: 'Heron watch', category: 'Birding Once' });
  const yesterday = await addVod(api, ch.id, 'Heron watch, yesterday', new Date(Date.now() - 86_400_000));
  const sessionId = randomUUID();
  await db.insert(liveSession).values({ id: sessionId, channelId: ch.id, source: 'whip' });
  const recording = await addVod(api, ch.id, 'Heron watch', new Date(), 'recording'); // as the recorder names it
  const hits = (r: any) => r.body.items.map((h: any) => [h.kind, h.id]);

  const all = await anon.get('/api/search?q=heron');
  assert.equal(hits(all), [['live', ch.id], ['vod', yesterday]]);
  assert.is(all.body.total, 2, 'the total counts the broadcast once too');
  assert.equal(hits(await anon.get('/api/search?q=herron%20watch')), [['live', ch.id], ['vod', yesterday]], 'with a typo as well');
  assert.equal(hits(await anon.get('/api/search?q=heron&live=true')), [['live', ch.id]]);
  const browse = await anon.get('/api/search?category=birding%20once');
  assert.equal(hits(browse), [['live', ch.id], ['vod', yesterday]], 'browsing without words');
  const second = await anon.get('/api/search?q=heron&limit=1&offset=1');
  assert.equal([hits(second), second.body.total], [[['vod', yesterday]], 2], 'pages do not repeat it either');
  const videos = await anon.get('/api/search?q=heron&type=vod');
  assert.equal(hits(videos), [['vod', recording], ['vod', yesterday]], 'among the videos, the recording in progress is one (watch from the start)');

  await db.update(liveSession).set({ endedAt: new Date() }).where(eq(liveSession.id, sessionId));
  await db.update(vod).set({ status: 'ready' }).where(eq(vod.id, recording));
  assert.equal(hits(await anon.get('/api/search?q=heron')), [['vod', recording], ['channel', ch.id], ['vod', yesterday]], 'once ended: the channel and both recordings');
});

t('an empty query browses: a category, live first, then newest', async ({ api, owner, anon }) => {
  const a = await create(owner, { slug: 'browse-a', title: 'Alpha', category: 'Browse Test' });
  await create(owner, { slug: 'browse-b', title: 'Beta', category: 'Browse Test' });
  await api.deps.database.db.insert(liveSession).values({ id: randomUUID(), channelId: a.id, source: 'rtmp' });
  const r = await anon.get('/api/search?category=browse%20test&type=channel');
  assert.equal(slugs(r), ['browse-a', 'browse-b']);
  const cats = await anon.get('/api/categories');
  assert.is(cats.status, 200);
  const mine = cats.body.items.find((c: any) => c.name === 'Browse Test');
  assert.equal(mine, { name: 'Browse Test', channels: 2, live: 1 });
  assert.is(cats.body.items[0].live >= 1, true, 'categories with live channels come first');
});

t('writes reach search at once: create, rename, retag, delete (with its VoDs)', async ({ api, owner, anon }) => {
  const ch = await create(owner, { slug: 'sync-me', title: 'Quokka hour' });
  const vodId = await addVod(api, ch.id, 'Quokka hour, episode one');
  assert.equal((await anon.get('/api/search?q=quokka')).body.total, 2);

  assert.is((await owner.patch('/api/channels/sync-me', { title: 'Wombat hour', slug: 'sync-renamed', tags: ['marsupials'] })).status, 200);
  assert.is((await anon.get('/api/search?q=quokka%20hour&type=channel')).body.total, 0, 'the old title is gone');
  const renamed = await anon.get('/api/search?q=wombat');
  assert.equal(renamed.body.items.map((h: any) => [h.kind, h.title]), [['channel', 'Wombat hour'], ['vod', 'Quokka hour, episode one']], 'the VoD is found by its channel title, below the channel');
  const ep = await anon.get('/api/search?q=marsupials&type=vod');
  assert.equal(ep.body.items.map((h: any) => [h.id, h.channel.slug, h.channel.title]), [[vodId, 'sync-renamed', 'Wombat hour']], "the VoD carries its channel's new fields");

  await api.deps.database.db.update(vod).set({ title: 'Platypus special' }).where(eq(vod.id, vodId));
  assert.equal((await anon.get('/api/search?q=platypus')).body.items.map((h: any) => h.id), [vodId]);

  assert.is((await owner.delete('/api/channels/sync-renamed')).status, 204);
  assert.is((await anon.get('/api/search?q=wombat')).body.total, 0);
  assert.is((await anon.get('/api/search?q=platypus')).body.total, 0, 'its VoDs went with it');
  const left = await api.deps.database.db.select().from(searchDoc).where(eq(searchDoc.channelId, ch.id));
  assert.is(left.length, 0);
});

t('every change is in the outbox, in the same transaction; the worker empties it', async ({ api, owner }) => {
  const { db } = api.deps.database;
  await api.searchSync.drain();
  const ch = await create(owner, { slug: 'outbox-one', title: 'Outbox' });
  await owner.patch('/api/channels/outbox-one', { description: 'changed' });
  await owner.put('/api/channels/outbox-one/avatar', { body: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'), headers: { 'content-type': 'image/png' } });
  const rows = await db.select().from(searchOutbox).where(eq(searchOutbox.refId, ch.id));
  assert.is(rows.length, 2, 'insert and the description change; an avatar upload does not touch search');
  // a write that rolls back leaves neither a document nor an outbox row
  await db
    .transaction(async (tx) => {
      await tx.execute(sql`update channel set title = 'Rolled back' where id = ${ch.id}`);
      throw new Error('roll back');
    })
    .catch(() => {});
  assert.is((await db.select().from(searchDoc).where(eq(searchDoc.refId, ch.id)))[0]!.title, 'Outbox');
  assert.is((await db.select().from(searchOutbox).where(eq(searchOutbox.refId, ch.id))).length, 2);
  await api.searchSync.drain();
  assert.is((await db.select().from(searchOutbox)).length, 0);
});

t('reindex rebuilds the documents from the tables', async ({ api, owner, anon }) => {
  const { db } = api.deps.database;
  await create(owner, { slug: 'reindex-me', title: 'Capybara lounge' });
  await db.execute(sql`delete from search_doc`); // an index gone wrong
  assert.is((await anon.get('/api/search?q=capybara')).body.total, 0);
  const { documents } = await reindex(db, api.deps.search);
  const [count] = await db.select({ n: sql<number>`count(*)::int` }).from(searchDoc);
  assert.is(documents, count!.n);
  assert.equal(slugs(await anon.get('/api/search?q=capybara')), ['reindex-me']);
});

t('pages: limit and offset, total stays', async ({ owner, anon }) => {
  for (let i = 0; i < 5; i++) await create(owner, { slug: `pager-${i}`, title: `Pangolin parade ${i}` });
  const first = await anon.get('/api/search?q=pangolin&limit=2');
  const second = await anon.get('/api/search?q=pangolin&limit=2&offset=2');
  const past = await anon.get('/api/search?q=pangolin&limit=2&offset=10');
  assert.is(first.body.total, 5);
  assert.is(second.body.total, 5);
  assert.is(past.body.total, 5, 'a page past the end still says how many there are');
  assert.is(past.body.items.length, 0);
  assert.is(new Set([...slugs(first), ...slugs(second)]).size, 4);
});

t('bad parameters are a 400 problem naming the field, never a 500', async ({ anon }) => {
  const cases: [string, string][] = [
    ['type=podcast', 'query.type'],
    ['live=yes', 'query.live'],
    ['limit=0', 'query.limit'],
    ['limit=abc', 'query.limit'],
    ['offset=-1', 'query.offset'],
    ['from=yesterday', 'query.from'],
    ['from=2026-11-02&to=2026-11-01', 'query.from'],
    [`q=${'a'.repeat(101)}`, 'query.q'],
  ];
  for (const [query, path] of cases) {
    const r = await anon.get(`/api/search?${query}`);
    assert.is(r.status, 400, query);
    assert.is(r.headers.get('content-type'), 'application/problem+json');
    assert.ok(r.body.errors.some((e: any) => e.path === path), `${query}: ${r.text}`);
  }
  for (const q of ["'", '\\', '!!!', '&|:*', '(((', '%_']) {
    const r = await anon.get(`/api/search?q=${encodeURIComponent(q)}`);
    assert.is(r.status, 200, `q=${q}: ${r.text}`);
    assert.is(r.body.total, 0, `q=${q} has no words, so it finds nothing (not everything)`);
  }
  for (const q of ['a', "o'reilly", 'the']) assert.is((await anon.get(`/api/search?q=${encodeURIComponent(q)}`)).status, 200, q);
});

t('every response matched the OpenAPI document', ({ owner, anon }) => {
  assert.equal([...owner.unchecked, ...anon.unchecked], []);
});

t.run();
