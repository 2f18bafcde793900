// @db-matrix
// @runtime-matrix
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';

const t = suite<{ api: TestApi; owner: Client }>('channels');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  await ctx.api.client().signUp('Admin'); // first account: admin, so the owner below is a plain user
  ctx.owner = await ctx.api.client().signUp('Olive');
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

// 1×1 PNG
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

t('POST /api/channels creates a channel that GET returns, with its owner', async ({ api, owner }) => {
  const r = await owner.post('/api/channels', { slug: 'olive-plays', title: 'Olive plays', description: 'Chill runs', category: 'Games', tags: ['Speedrun', 'speedrun', 'chill'] });
  assert.is(r.status, 201);
  assert.is(r.headers.get('location'), '/api/channels/olive-plays');
  assert.equal(r.body.tags, ['speedrun', 'chill'], 'tags are lowercased and de-duplicated');
  assert.is(r.body.owner.id, owner.user!.id);
  const anon = api.client();
  const got = await anon.get('/api/channels/olive-plays');
  assert.is(got.status, 200);
  assert.is(got.body.title, 'Olive plays');
  assert.is(got.body.avatarUrl, null);
});

t('POST /api/channels with a taken slug is 409 and keeps the original', async ({ api, owner }) => {
  await owner.post('/api/channels', { slug: 'taken', title: 'First' });
  const other = await api.client().signUp('Other');
  const r = await other.post('/api/channels', { slug: 'taken', title: 'Second' });
  assert.is(r.status, 409);
  assert.is(r.headers.get('content-type'), 'application/problem+json');
  assert.match(r.body.detail, /taken/);
  assert.equal(r.body.errors.map((e: any) => e.path), ['json.slug'], 'the form can mark the slug field');
  assert.is((await other.get('/api/channels/taken')).body.title, 'First');
});

t('GET /api/channels lists newest first, filters by q, category, tag and owner=me, and pages', async ({ api, owner }) => {
  const other = await api.client().signUp('Lister');
  await other.post('/api/channels', { slug: 'cooking-live', title: 'Cooking Live', category: 'Food', tags: ['pasta'] });
  await other.post('/api/channels', { slug: 'baking-live', title: 'Baking', category: 'Food', tags: ['bread'] });
  const anon = api.client();
  const all = await anon.get('/api/channels?limit=100');
  assert.ok(all.body.total >= 3);
  assert.is(all.body.items[0].slug, 'baking-live', 'newest first');
  assert.equal((await anon.get('/api/channels?q=cook')).body.items.map((c: any) => c.slug), ['cooking-live']);
  assert.equal((await anon.get('/api/channels?category=Food')).body.items.length, 2);
  assert.equal((await anon.get('/api/channels?tag=BREAD')).body.items.map((c: any) => c.slug), ['baking-live']);
  const mine = await other.get('/api/channels?owner=me');
  assert.equal(mine.body.items.map((c: any) => c.slug).sort(), ['baking-live', 'cooking-live']);
  const page = await anon.get('/api/channels?limit=1&offset=1');
  assert.is(page.body.items.length, 1);
  assert.is(page.body.items[0].slug, 'cooking-live');
  assert.is((await anon.get('/api/channels?q=100%25')).body.total, 0, 'LIKE wildcards in q are literal');
  assert.is((await owner.get('/api/channels?owner=me')).body.items.every((c: any) => c.owner.id === owner.user!.id), true);
});

t('PATCH /api/channels/:slug edits fields and can rename the slug', async ({ owner }) => {
  await owner.post('/api/channels', { slug: 'rename-me', title: 'Before' });
  const r = await owner.patch('/api/channels/rename-me', { title: 'After', slug: 'renamed', tags: ['a'] });
  assert.is(r.status, 200);
  assert.is(r.body.title, 'After');
  assert.is(r.body.slug, 'renamed');
  assert.is((await owner.get('/api/channels/rename-me')).status, 404);
  assert.is((await owner.get('/api/channels/renamed')).body.tags[0], 'a');
});

t('PATCH to a taken slug is 409 and changes nothing', async ({ owner }) => {
  await owner.post('/api/channels', { slug: 'slug-a', title: 'A' });
  await owner.post('/api/channels', { slug: 'slug-b', title: 'B' });
  const r = await owner.patch('/api/channels/slug-a', { slug: 'slug-b', title: 'changed' });
  assert.is(r.status, 409);
  assert.is((await owner.get('/api/channels/slug-a')).body.title, 'A');
});

t('PUT /api/channels/:slug/avatar stores an image that GET serves; DELETE removes it', async ({ api, owner }) => {
  await owner.post('/api/channels', { slug: 'with-avatar', title: 'Avatar' });
  const up = await owner.put('/api/channels/with-avatar/avatar', { body: PNG, headers: { 'content-type': 'image/png' } });
  assert.is(up.status, 200);
  assert.match(up.body.avatarUrl, /^\/api\/channels\/with-avatar\/avatar\?v=[0-9a-f]{10}$/);
  const img = await fetch(api.base + up.body.avatarUrl);
  assert.is(img.status, 200);
  assert.is(img.headers.get('content-type'), 'image/png');
  assert.equal(Buffer.from(await img.arrayBuffer()), PNG);
  assert.is((await owner.delete('/api/channels/with-avatar/avatar')).status, 204);
  assert.is((await owner.get('/api/channels/with-avatar')).body.avatarUrl, null);
  assert.is((await owner.get('/api/channels/with-avatar/avatar')).status, 404);
});

t('avatar upload refuses a wrong type (415), a lying file (400) and an oversized one (413), keeping the old avatar', async ({ api, owner }) => {
  await owner.post('/api/channels', { slug: 'avatar-guard', title: 'Guard' });
  await owner.put('/api/channels/avatar-guard/avatar', { body: PNG, headers: { 'content-type': 'image/png' } });
  const before = (await owner.get('/api/channels/avatar-guard')).body.avatarUrl;
  const svg = await owner.put('/api/channels/avatar-guard/avatar', { body: '<svg/>', headers: { 'content-type': 'image/svg+xml' } });
  assert.is(svg.status, 415);
  const liar = await owner.put('/api/channels/avatar-guard/avatar', { body: 'not a png at all', headers: { 'content-type': 'image/png' } });
  assert.is(liar.status, 400);
  const big = Buffer.concat([PNG, Buffer.alloc(api.config.maxUploadBytes + 1)]);
  const huge = await owner.put('/api/channels/avatar-guard/avatar', { body: big, headers: { 'content-type': 'image/png' } });
  assert.is(huge.status, 413);
  const after = await owner.get('/api/channels/avatar-guard');
  assert.is(after.body.avatarUrl, before, 'the stored avatar is untouched');
  assert.is((await fetch(api.base + before)).status, 200);
});

t('DELETE /api/channels/:slug removes the channel, its keys and its avatar', async ({ api, owner }) => {
  await owner.post('/api/channels', { slug: 'doomed', title: 'Doomed' });
  const up = await owner.put('/api/channels/doomed/avatar', { body: PNG, headers: { 'content-type': 'image/png' } });
  await owner.post('/api/channels/doomed/stream-keys', { label: 'obs' });
  const del = await owner.delete('/api/channels/doomed');
  assert.is(del.status, 204);
  assert.is((await owner.get('/api/channels/doomed')).status, 404);
  assert.is((await fetch(api.base + up.body.avatarUrl)).status, 404);
  assert.is((await owner.delete('/api/channels/doomed')).status, 404);
});

t('every response in this suite was checked against the OpenAPI document', async ({ owner }) => {
  assert.equal(owner.unchecked, []);
});

t.run();
