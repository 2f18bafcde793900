// @db-matrix
// @runtime-matrix
// The catalog: a video's details edited by its owner (and refused to others, or when malformed); who sees it where
// by visibility (public, unlisted, private, subscribers) — the catalog, the channel's list, its page, its HLS and
// search; a scheduled premiere hidden until its time, then there; the catalog's filters, sorts and pages; related
// videos; resume positions; view counting; and a delete that leaves no object, row or search document behind.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { searchDoc, vod, watchPosition } from '../../shared/db/index.ts';
import { vodPrefix } from '../../shared/media.ts';
import { meiliFilter } from '../../shared/search/MeiliSearch.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { placeholderFiles, seedVod, type VodDetails } from '../helpers/vod-seed.ts';

type Ctx = { api: TestApi; admin: Client; owner: Client; other: Client; stranger: Client; anon: Client };
const t = suite<Ctx>('catalog');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.admin = await ctx.api.client().signUp('Site Admin'); // the instance's first account: its admin
  ctx.owner = await ctx.api.client().signUp('Director');
  ctx.other = await ctx.api.client().signUp('Other Director');
  ctx.stranger = await ctx.api.client().signUp('Passer-by');
  ctx.anon = ctx.api.client();
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

const seed = (ctx: Ctx, slug: string, details: VodDetails = {}, owner = ctx.owner) => seedVod(ctx.api, owner, slug, { files: placeholderFiles({ ended: true }), details });
const ids = (r: { body: { items: { id: string }[] } }) => r.body.items.map((v) => v.id);
const playlist = (c: Client, id: string) => c.get(`/hls/vod/${id}/index.m3u8`, { check: false });
const searchVods = async (c: Client, q: string) => ids(await c.get(`/api/search?type=vod&q=${encodeURIComponent(q)}`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t('PATCH /api/vods/{id} edits the details; bad chapters, tags, language and descriptions get 400; others 403/401', async (ctx) => {
  const id = await seed(ctx, 'edit-studio', { durationMs: 600_000 });
  const edit = await ctx.owner.patch(`/api/vods/${id}`, {
    title: 'The making of',
    description: 'Line one\nline two',
    category: 'Music',
    tags: ['Jazz', 'jazz', 'live'],
    language: 'pt-BR',
    chapters: [{ startSeconds: 0, title: 'Intro' }, { startSeconds: 90.5, title: 'The band' }],
  });
  assert.is(edit.status, 200, edit.text);
  assert.is(edit.body.title, 'The making of');
  assert.is(edit.body.description, 'Line one\nline two');
  assert.is(edit.body.category, 'Music');
  assert.equal(edit.body.tags, ['jazz', 'live'], 'lowercased, each once');
  assert.is(edit.body.language, 'pt-BR');
  assert.equal(edit.body.chapters, [{ startSeconds: 0, title: 'Intro' }, { startSeconds: 90.5, title: 'The band' }]);
  assert.equal((await ctx.anon.get(`/api/vods/${id}`)).body.chapters.length, 2, 'kept');

  const refused = async (body: unknown, why: string) => {
    const r = await ctx.owner.patch(`/api/vods/${id}`, body);
    assert.is(r.status, 400, `${why}: ${r.text}`);
    assert.match(r.headers.get('content-type') ?? '', /problem\+json/);
  };
  await refused({ chapters: [{ startSeconds: 5, title: 'Late' }] }, 'the first chapter not at 0');
  await refused({ chapters: [{ startSeconds: 0, title: 'A' }, { startSeconds: 60, title: 'B' }, { startSeconds: 30, title: 'C' }] }, 'unsorted');
  await refused({ chapters: [{ startSeconds: 0, title: 'A' }, { startSeconds: 600, title: 'After the end' }] }, 'past the end');
  await refused({ chapters: [{ startSeconds: 0, title: '' }] }, 'untitled');
  await refused({ chapters: Array.from({ length: 101 }, (_, i) => ({ startSeconds: i, title: `c${i}` })) }, '101 chapters');
  await refused({ tags: Array.from({ length: 11 }, (_, i) => `tag${i}`) }, '11 tags');
  await refused({ tags: ['x'.repeat(26)] }, 'a long tag');
  await refused({ language: 'klingon' }, 'an unknown language');
  await refused({ description: 'x'.repeat(5001) }, 'a long description');
  await refused({ visibility: 'secret' }, 'an unknown visibility');
  await refused({}, 'nothing to change');
  await refused({ publishAt: '0000-01-01T00:00:00Z' }, 'a premiere before 1970');
  await refused({ publishAt: 'soon' }, 'a premiere that is no time');
  assert.is((await ctx.owner.patch(`/api/vods/${id}`, { chapters: Array.from({ length: 100 }, (_, i) => ({ startSeconds: i, title: `c${i}` })) })).status, 200, '100 chapters are fine');

  assert.is((await ctx.stranger.patch(`/api/vods/${id}`, { title: 'Mine now' })).status, 403);
  assert.is((await ctx.anon.patch(`/api/vods/${id}`, { title: 'Mine now' })).status, 401);
  assert.is((await ctx.stranger.delete(`/api/vods/${id}`)).status, 403);
  assert.is((await ctx.owner.patch(`/api/vods/${id}`, { visibility: 'private' })).status, 200);
  assert.is((await ctx.stranger.patch(`/api/vods/${id}`, { title: 'Mine now' })).status, 404, 'a private video does not exist for others');
  assert.is((await ctx.anon.get(`/api/vods/${id}`)).status, 404);
});

t('the poster: a generated frame (409 until it exists) or an uploaded image, checked like avatars', async (ctx) => {
  const id = await seed(ctx, 'poster-studio');
  const frame = await ctx.owner.patch(`/api/vods/${id}`, { posterFrame: 3 });
  assert.is(frame.status, 409, frame.text);
  assert.is((await ctx.owner.patch(`/api/vods/${id}`, { posterFrame: 5 })).status, 400);
  await ctx.api.deps.store.put(`${vodPrefix(id)}frame-3.jpg`, new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 3]), 'image/jpeg');
  const chosen = await ctx.owner.patch(`/api/vods/${id}`, { posterFrame: 3 });
  assert.is(chosen.status, 200, chosen.text);
  const [row] = await ctx.api.deps.database.db.select().from(vod).where(eq(vod.id, id));
  assert.is(row!.posterKey, `vod/${id}/frame-3.jpg`);
  const served = await fetch(ctx.api.base + chosen.body.posterUrl);
  assert.is(served.status, 200);
  assert.is(served.headers.get('content-type'), 'image/jpeg');
  assert.equal([...new Uint8Array(await served.arrayBuffer())], [0xff, 0xd8, 0xff, 0xe0, 3]);

  // an uploaded PNG (made by FFmpeg), then a file that only claims to be one
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glint-poster-'));
  try {
    await promisify(execFile)('ffmpeg', ['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'color=c=red:s=32x18', '-frames:v', '1', path.join(dir, 'p.png')]);
    const png = new Uint8Array(await readFile(path.join(dir, 'p.png')));
    const up = await ctx.owner.req('POST', `/api/vods/${id}/poster`, { body: png, headers: { 'content-type': 'image/png' } });
    assert.is(up.status, 200, up.text);
    assert.is.not(up.body.posterUrl, chosen.body.posterUrl, 'a new URL');
    const got = await fetch(ctx.api.base + up.body.posterUrl);
    assert.is(got.headers.get('content-type'), 'image/png');
    assert.is((await got.arrayBuffer()).byteLength, png.byteLength);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const fake = await ctx.owner.req('POST', `/api/vods/${id}/poster`, { body: new TextEncoder().encode('%PDF-1.4'), headers: { 'content-type': 'image/png' } });
  assert.is(fake.status, 400, fake.text);
  assert.is((await ctx.owner.req('POST', `/api/vods/${id}/poster`, { body: 'x', headers: { 'content-type': 'text/plain' } })).status, 415);
  assert.is((await ctx.stranger.req('POST', `/api/vods/${id}/poster`, { body: new Uint8Array([1]), headers: { 'content-type': 'image/png' } })).status, 403);
});

t('visibility: what the catalog, the channel list, the page, its HLS and search show to whom', async (ctx) => {
  const slug = 'vis-studio';
  const v: Record<string, string> = {};
  for (const visibility of ['public', 'unlisted', 'private', 'subscribers'] as const) v[visibility] = await seed(ctx, slug, { visibility, title: `Zebrafinch ${visibility}` });
  const all = Object.values(v);
  const listedTo = (r: { body: { items: { id: string }[] } }) => ids(r).filter((id) => all.includes(id)).sort();
  const expectListed = [v.public!, v.subscribers!].sort();

  for (const [who, c] of [['anonymous', ctx.anon], ['a stranger', ctx.stranger]] as const) {
    assert.equal(listedTo(await c.get('/api/videos?limit=50')), expectListed, `catalog for ${who}`);
    assert.equal(listedTo(await c.get(`/api/channels/${slug}/vods`)), expectListed, `channel list for ${who}`);
    assert.equal((await searchVods(c, 'zebrafinch')).sort(), expectListed, `search for ${who}`);
    assert.is((await c.get(`/api/vods/${v.public}`)).status, 200);
    assert.is((await c.get(`/api/vods/${v.unlisted}`)).status, 200, 'unlisted: the link plays');
    assert.is((await c.get(`/api/vods/${v.private}`)).status, 404, `private: none for ${who}`);
    assert.is((await c.get(`/api/vods/${v.subscribers}`)).status, 200);
    assert.is((await playlist(c, v.public!)).status, 200);
    assert.is((await playlist(c, v.unlisted!)).status, 200);
    assert.is((await playlist(c, v.private!)).status, 404, `private HLS for ${who}`);
    assert.is((await c.get(`/hls/vod/${v.private}/poster.jpg`, { check: false })).status, 404, 'its poster too');
    assert.is((await c.get(`/api/vods/${v.private}/chat`)).status, 404);
  }
  assert.is((await playlist(ctx.anon, v.subscribers!)).status, 401);
  assert.is((await playlist(ctx.stranger, v.subscribers!)).status, 403);
  assert.is((await ctx.anon.get(`/api/vods/${v.subscribers}`)).body.subscribersOnly, true, 'subscribersOnly stays in the JSON');
  assert.is((await ctx.anon.get(`/api/vods/${v.public}`)).body.subscribersOnly, false);

  // the owner sees (and plays) all of them on the channel page, but the catalog and search still list only the listed
  assert.equal(listedTo(await ctx.owner.get(`/api/channels/${slug}/vods`)), [...all].sort());
  for (const id of all) assert.is((await playlist(ctx.owner, id)).status, 200);
  assert.is((await ctx.owner.get(`/api/vods/${v.private}`)).status, 200);
  assert.is((await ctx.admin.get(`/api/vods/${v.private}`)).status, 200, 'an admin sees a private one');
  assert.is((await playlist(ctx.admin, v.private!)).status, 200);
  assert.equal(listedTo(await ctx.owner.get('/api/videos?limit=50')), expectListed);
  assert.equal((await searchVods(ctx.owner, 'zebrafinch')).sort(), expectListed);

  // changing visibility moves it in and out of search at once (the trigger)
  assert.is((await ctx.owner.patch(`/api/vods/${v.public}`, { visibility: 'unlisted' })).status, 200);
  assert.equal(await searchVods(ctx.anon, 'zebrafinch'), [v.subscribers]);
  assert.is((await ctx.owner.patch(`/api/vods/${v.private}`, { visibility: 'public' })).status, 200);
  assert.equal((await searchVods(ctx.anon, 'zebrafinch')).sort(), [v.private!, v.subscribers!].sort());
});

t('search finds a video by its own description and tags', async (ctx) => {
  const id = await seed(ctx, 'search-studio', { title: 'Tuesday' });
  assert.equal(await searchVods(ctx.anon, 'quokka'), []);
  assert.is((await ctx.owner.patch(`/api/vods/${id}`, { description: 'A day with a quokka', tags: ['marmoset'], category: 'Wildlife' })).status, 200);
  assert.equal(await searchVods(ctx.anon, 'quokka'), [id]);
  assert.equal(await searchVods(ctx.anon, 'marmoset'), [id]);
  const hit = (await ctx.anon.get('/api/search?type=vod&q=quokka')).body.items[0];
  assert.is(hit.category, 'Wildlife');
  assert.equal(hit.tags, ['marmoset']);
});

t('a scheduled premiere is hidden from all but its owner until its time, then listed, playable and found', async (ctx) => {
  const id = await seed(ctx, 'premiere-studio', { title: 'Axolotl premiere' });
  const at = new Date(Date.now() + 2500);
  assert.is((await ctx.owner.patch(`/api/vods/${id}`, { publishAt: at.toISOString() })).status, 200);
  assert.is((await ctx.anon.get(`/api/vods/${id}`)).status, 404);
  assert.is((await ctx.stranger.get(`/api/vods/${id}`)).status, 404);
  assert.is((await playlist(ctx.anon, id)).status, 404);
  assert.not.ok(ids(await ctx.anon.get('/api/videos?limit=50')).includes(id));
  assert.not.ok(ids(await ctx.anon.get('/api/channels/premiere-studio/vods')).includes(id));
  assert.equal(await searchVods(ctx.anon, 'axolotl'), []);
  const own = await ctx.owner.get(`/api/vods/${id}`);
  assert.is(own.status, 200);
  assert.is(own.body.publishAt, at.toISOString());
  assert.is((await playlist(ctx.owner, id)).status, 200);

  await sleep(Math.max(0, at.getTime() - Date.now()) + 200);
  assert.is((await ctx.anon.get(`/api/vods/${id}`)).status, 200);
  assert.is((await playlist(ctx.anon, id)).status, 200);
  assert.ok(ids(await ctx.anon.get('/api/videos?limit=50')).includes(id));
  assert.ok(ids(await ctx.anon.get('/api/channels/premiere-studio/vods')).includes(id));
  assert.equal(await searchVods(ctx.anon, 'axolotl'), [id]);
});

t('Meilisearch leaves out VoD documents dated after the query (premieres), as PostgresSearch does', () => {
  const f = meiliFilter({ q: 'x', limit: 10, offset: 0, now: new Date(1_800_000_000_000) });
  assert.ok(f.some((e) => Array.isArray(e) && e.includes('kind = "channel"') && e.includes('date <= 1800000000000')), JSON.stringify(f));
});

t('GET /api/videos: each filter narrows, each sort orders, pages walk the whole list once', async (ctx) => {
  const day = 86_400_000;
  const now = Date.now();
  const specs = [
    { name: 'short-new', durationMs: 60_000, category: 'Cooking', language: 'fr', source: 'upload', startedAt: new Date(now - 3600_000), viewCount: 5 },
    { name: 'medium-week', durationMs: 600_000, category: 'cooking', language: 'en', source: 'upload', startedAt: new Date(now - 3 * day), viewCount: 50 },
    { name: 'long-month', durationMs: 3_600_000, category: 'Gaming', language: 'en', source: 'broadcast', startedAt: new Date(now - 20 * day), viewCount: 500 },
    { name: 'medium-year', durationMs: 1_199_000, category: 'Gaming', language: 'de', source: 'broadcast', startedAt: new Date(now - 200 * day), viewCount: 1 },
    { name: 'short-old', durationMs: 239_000, category: 'Music', language: 'fr', source: 'upload', startedAt: new Date(now - 800 * day), viewCount: 20 },
    { name: 'long-edge', durationMs: 1_200_000, category: 'Music', language: 'de', source: 'broadcast', startedAt: new Date(now - 2 * day), viewCount: 7 },
  ] as const;
  const seeded = new Map<string, (typeof specs)[number]>();
  for (const s of specs) seeded.set(await seed(ctx, 'browse-studio', { ...s, title: s.name }), s);
  // and some the catalog never shows: unlisted, private, not ready
  const hiddenIds = [
    await seed(ctx, 'browse-studio', { visibility: 'unlisted', category: 'Cooking' }),
    await seed(ctx, 'browse-studio', { visibility: 'private', category: 'Cooking' }),
    await seedVod(ctx.api, ctx.owner, 'browse-studio', { status: 'recording', files: placeholderFiles(), details: { category: 'Cooking' } }),
  ];
  const names = async (query: string) => {
    const r = await ctx.anon.get(`/api/videos?limit=50&${query}`);
    assert.is(r.status, 200, r.text);
    for (const id of hiddenIds) assert.not.ok(ids(r).includes(id), `${query}: a hidden one`);
    return ids(r).filter((id) => seeded.has(id)).map((id) => seeded.get(id)!.name);
  };
  const sorted = (a: string[]) => [...a].sort();
  assert.equal(sorted(await names('category=cooking')), ['medium-week', 'short-new'], 'category, any case');
  assert.equal(sorted(await names('language=fr')), ['short-new', 'short-old']);
  assert.equal(sorted(await names('duration=short')), ['short-new', 'short-old'], 'under 4 minutes');
  assert.equal(sorted(await names('duration=medium')), ['medium-week', 'medium-year'], '4 to 20 minutes');
  assert.equal(sorted(await names('duration=long')), ['long-edge', 'long-month'], '20 minutes and over');
  assert.equal(sorted(await names('date=today')), ['short-new']);
  assert.equal(sorted(await names('date=week')), ['long-edge', 'medium-week', 'short-new']);
  assert.equal(sorted(await names('date=month')), ['long-edge', 'long-month', 'medium-week', 'short-new']);
  assert.equal(sorted(await names('date=year')), ['long-edge', 'long-month', 'medium-week', 'medium-year', 'short-new']);
  assert.equal(sorted(await names('source=upload')), ['medium-week', 'short-new', 'short-old']);
  assert.equal(sorted(await names('source=broadcast')), ['long-edge', 'long-month', 'medium-year']);
  assert.equal(await names('category=gaming&language=en&duration=long'), ['long-month'], 'filters combine');
  assert.equal(await names('sort=newest'), ['short-new', 'long-edge', 'medium-week', 'long-month', 'medium-year', 'short-old']);
  assert.equal(await names('sort=views'), ['long-month', 'medium-week', 'short-old', 'long-edge', 'short-new', 'medium-year']);
  assert.is((await ctx.anon.get('/api/videos?duration=forever')).status, 400);
  assert.is((await ctx.anon.get('/api/videos?limit=51')).status, 400);
  assert.is((await ctx.anon.get('/api/videos?cursor=nonsense')).status, 400);
  assert.is((await ctx.anon.get('/api/videos?language=xx')).status, 400);

  for (const sort of ['newest', 'views']) {
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } = await ctx.anon.get(`/api/videos?sort=${sort}&limit=2&source=upload${cursor ? `&cursor=${cursor}` : ''}`);
      assert.is(r.status, 200);
      assert.ok(r.body.items.length <= 2);
      walked.push(...ids(r));
      cursor = r.body.nextCursor;
    } while (cursor);
    const whole = ids(await ctx.anon.get(`/api/videos?sort=${sort}&limit=50&source=upload`));
    assert.equal(walked, whole, `${sort}: pages of 2 walk the same list`);
    assert.is(new Set(walked).size, walked.length);
  }

  // the channel page's two lists
  const uploads = await ctx.anon.get('/api/channels/browse-studio/vods?source=upload');
  assert.ok(uploads.body.items.length === 3 && uploads.body.items.every((v: { source: string }) => v.source === 'upload'));
  const broadcasts = await ctx.anon.get('/api/channels/browse-studio/vods?source=broadcast');
  assert.ok(broadcasts.body.items.length === 4 && broadcasts.body.items.every((v: { source: string }) => v.source === 'broadcast'), 'the three and the recording in progress');
});

t('GET /api/vods/{id}/related: same channel, category or tags; never unlisted, private or itself', async (ctx) => {
  const base = await seed(ctx, 'rel-a', { category: 'Knitting', tags: ['wool'] });
  const sameChannel = await seed(ctx, 'rel-a', { category: 'Other' });
  const sameTag = await seed(ctx, 'rel-b', { tags: ['wool', 'yarn'] }, ctx.other);
  const sameCategory = await seed(ctx, 'rel-b', { category: 'knitting' }, ctx.other);
  const unlisted = await seed(ctx, 'rel-b', { tags: ['wool'], visibility: 'unlisted' }, ctx.other);
  const privateOne = await seed(ctx, 'rel-a', { visibility: 'private' });
  const unrelated = await seed(ctx, 'rel-b', { category: 'Cars', tags: ['engines'] }, ctx.other);
  const r = await ctx.owner.get(`/api/vods/${base}/related`);
  assert.is(r.status, 200, r.text);
  const got = ids(r);
  assert.equal(got, [sameChannel, sameTag, sameCategory], 'the same channel first, then a shared tag, then the category');
  for (const id of [base, unlisted, privateOne, unrelated]) assert.not.ok(got.includes(id));
  assert.ok(got.length <= 12);
  assert.is((await ctx.anon.get(`/api/vods/${privateOne}/related`)).status, 404);
});

t('PUT/GET /api/vods/{id}/position: a signed-in viewer resumes where they stopped', async (ctx) => {
  const id = await seed(ctx, 'resume-studio');
  assert.is((await ctx.anon.get(`/api/vods/${id}/position`)).status, 401);
  assert.is((await ctx.anon.put(`/api/vods/${id}/position`, { json: { positionSeconds: 3 } })).status, 401);
  assert.is((await ctx.stranger.get(`/api/vods/${id}/position`)).body, null, 'none yet');
  assert.is((await ctx.stranger.put(`/api/vods/${id}/position`, { json: { positionSeconds: 42.5 } })).status, 204);
  assert.equal((await ctx.stranger.get(`/api/vods/${id}/position`)).body, { positionSeconds: 42.5 });
  assert.is((await ctx.stranger.put(`/api/vods/${id}/position`, { json: { positionSeconds: 61 } })).status, 204);
  assert.equal((await ctx.stranger.get(`/api/vods/${id}/position`)).body, { positionSeconds: 61 }, 'the latest');
  assert.is((await ctx.other.get(`/api/vods/${id}/position`)).body, null, "another viewer's is their own");
  assert.is((await ctx.stranger.get(`/api/vods/${id}/position`)).headers.get('cache-control'), 'private, no-store');
  for (const body of [{ positionSeconds: -1 }, { positionSeconds: 'x' }, { positionSeconds: 1e12 }, {}, { positionSeconds: 1, extra: true }]) {
    assert.is((await ctx.stranger.put(`/api/vods/${id}/position`, { json: body })).status, 400, JSON.stringify(body));
  }
  assert.is((await ctx.stranger.put(`/api/vods/${crypto.randomUUID()}/position`, { json: { positionSeconds: 1 } })).status, 404, 'an unknown VoD');
  const hidden = await seed(ctx, 'resume-studio', { visibility: 'private' });
  assert.is((await ctx.stranger.put(`/api/vods/${hidden}/position`, { json: { positionSeconds: 1 } })).status, 404);
});

t('POST /api/vods/{id}/view counts a viewer once (per user, else per address)', async (ctx) => {
  const id = await seed(ctx, 'views-studio');
  const first = await ctx.anon.post(`/api/vods/${id}/view`);
  assert.is(first.status, 200, first.text);
  assert.equal(first.body, { counted: true, viewCount: 1 });
  assert.equal((await ctx.anon.post(`/api/vods/${id}/view`)).body, { counted: false, viewCount: 1 }, 'the same address again');
  assert.equal((await ctx.api.client().post(`/api/vods/${id}/view`)).body.counted, false, 'another anonymous client at that address');
  assert.equal((await ctx.stranger.post(`/api/vods/${id}/view`)).body, { counted: true, viewCount: 2 }, 'a signed-in viewer');
  assert.equal((await ctx.stranger.post(`/api/vods/${id}/view`)).body, { counted: false, viewCount: 2 });
  assert.is((await ctx.anon.get(`/api/vods/${id}`)).body.viewCount, 2);
  const hidden = await seed(ctx, 'views-studio', { visibility: 'private' });
  assert.is((await ctx.anon.post(`/api/vods/${hidden}/view`)).status, 404);
});

t('DELETE /api/vods/{id} removes every object under its prefix, its row, its positions and its search document', async (ctx) => {
  const id = await seed(ctx, 'delete-studio', { title: 'Capybara reel', source: 'upload' });
  const { store, database } = ctx.api.deps;
  const prefix = vodPrefix(id);
  // what the transcoder leaves beside the recording's files
  for (const name of ['master.m3u8', '720p/index.m3u8', '720p/init.mp4', '720p/seg-00000.m4s', 'audio/seg-00000.m4s', 'thumb-small.jpg', 'thumb-large.jpg', 'frame-1.jpg', 'storyboard.jpg', 'storyboard.vtt']) {
    await store.put(`${prefix}${name}`, new Uint8Array([1, 2, 3]), 'application/octet-stream');
  }
  assert.is((await store.list(prefix)).length, 13);
  await ctx.stranger.put(`/api/vods/${id}/position`, { json: { positionSeconds: 2 } });
  assert.equal(await searchVods(ctx.anon, 'capybara'), [id]);
  assert.is((await ctx.owner.delete(`/api/vods/${id}`)).status, 204);
  assert.equal(await store.list(prefix), []);
  assert.is((await database.db.select().from(vod).where(eq(vod.id, id))).length, 0);
  assert.is((await database.db.select().from(searchDoc).where(eq(searchDoc.refId, id))).length, 0);
  assert.is((await database.db.select().from(watchPosition).where(eq(watchPosition.vodId, id))).length, 0);
  assert.equal(await searchVods(ctx.anon, 'capybara'), []);
  assert.is((await ctx.anon.get(`/api/vods/${id}`)).status, 404);
});

t('every response matched the OpenAPI document', (ctx) => {
  for (const c of [ctx.admin, ctx.owner, ctx.other, ctx.stranger, ctx.anon]) assert.equal(c.unchecked.filter((u) => u.includes('/api/')), []);
});

t.run();
