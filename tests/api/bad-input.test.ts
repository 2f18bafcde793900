// @db-matrix
// @runtime-matrix
// Bad input gets a clear 4xx problem+json (never a 500) and loses nothing already stored.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type Client, type Reply, type TestApi } from '../helpers/api.ts';
import { isProblem as assertProblem } from '../helpers/assertions.ts';

const t = suite<{ api: TestApi; owner: Client }>('bad input');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Owner');
  await ctx.owner.post('/api/channels', { slug: 'stable', title: 'Stable', description: 'keep me', tags: ['one'] });
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

/** problem+json whose detail says something a person can act on. */
function isProblem(r: Reply, status: number, detail?: RegExp) {
  assertProblem(r, status, detail);
  assert.type(r.body.detail, 'string');
  assert.ok(r.body.detail.length > 5, 'the detail says something a person can act on');
}

async function unchanged(owner: Client) {
  const r = await owner.get('/api/channels/stable');
  assert.is(r.status, 200);
  assert.is(r.body.title, 'Stable');
  assert.is(r.body.description, 'keep me');
  assert.equal(r.body.tags, ['one']);
}

t('missing required fields → 400 naming each field', async ({ owner }) => {
  const r = await owner.post('/api/channels', {});
  isProblem(r, 400);
  const paths = r.body.errors.map((e: any) => e.path);
  assert.ok(paths.includes('json.slug') && paths.includes('json.title'), JSON.stringify(paths));
});

t('wrong types → 400', async ({ owner }) => {
  isProblem(await owner.post('/api/channels', { slug: 123, title: ['x'] }), 400);
  isProblem(await owner.patch('/api/channels/stable', { tags: 'not-an-array' }), 400, /tags/);
  isProblem(await owner.patch('/api/channels/stable', { title: '' }), 400, /title/);
  isProblem(await owner.get('/api/channels?limit=lots'), 400, /limit/);
  isProblem(await owner.get('/api/channels?limit=100000'), 400);
  await unchanged(owner);
});

t('an invalid slug → 400 with the rule', async ({ owner }) => {
  for (const slug of ['A', 'UPPER', '-lead', 'trail-', 'sp ace', 'x'.repeat(40), '../etc']) {
    isProblem(await owner.post('/api/channels', { slug, title: 'T' }), 400, /slug/);
  }
});

t('unknown fields are refused rather than silently dropped', async ({ owner }) => {
  isProblem(await owner.post('/api/channels', { slug: 'extra-field', title: 'T', ownerId: 'someone-else' }), 400);
  isProblem(await owner.patch('/api/channels/stable', { id: 'x' }), 400);
  isProblem(await owner.patch('/api/channels/stable', {}), 400, /at least one field/);
  await unchanged(owner);
});

t('malformed JSON → 400', async ({ owner }) => {
  const r = await owner.req('POST', '/api/channels', { body: '{"slug": "x", ', headers: { 'content-type': 'application/json' } });
  isProblem(r, 400);
  const p = await owner.req('PATCH', '/api/channels/stable', { body: 'nope', headers: { 'content-type': 'application/json' } });
  isProblem(p, 400);
  await unchanged(owner);
});

t('a non-JSON content type → 415', async ({ owner }) => {
  isProblem(await owner.req('POST', '/api/channels', { body: 'slug=x&title=y', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, /application\/json/);
  isProblem(await owner.req('PATCH', '/api/channels/stable', { body: 'title=z', headers: { 'content-type': 'text/plain' } }), 415);
  await unchanged(owner);
});

t('an oversized body → 413, and the stored channel is intact', async ({ api, owner }) => {
  const big = { title: 'x', description: 'y'.repeat(api.config.maxBodyBytes + 10) };
  isProblem(await owner.patch('/api/channels/stable', big), 413, /larger than/);
  isProblem(await owner.post('/api/channels', { slug: 'big-one', title: 'T', description: 'z'.repeat(api.config.maxBodyBytes) }), 413);
  isProblem(await owner.patch('/api/channels/stable', { description: 'd'.repeat(2001) }), 400, /description/);
  await unchanged(owner);
  assert.is((await owner.get('/api/channels/big-one')).status, 404);
});

t('unknown ids and slugs → 404', async ({ owner }) => {
  isProblem(await owner.get('/api/channels/no-such-channel'), 404, /no-such-channel/);
  isProblem(await owner.patch('/api/channels/no-such-channel', { title: 'x' }), 404);
  isProblem(await owner.delete('/api/channels/no-such-channel'), 404);
  isProblem(await owner.get('/api/channels/no-such-channel/stream-keys'), 404);
  isProblem(await owner.delete('/api/channels/stable/stream-keys/00000000-0000-4000-8000-000000000000'), 404);
  isProblem(await owner.get('/api/channels/stable/avatar'), 404);
});

t('unknown API routes and methods → 404 problem+json', async ({ api }) => {
  for (const [method, path] of [['GET', '/api/nope'], ['POST', '/api/channels/stable/launch'], ['PUT', '/api/me']] as const) {
    const res = await fetch(api.base + path, { method });
    assert.ok(res.status === 404 || res.status === 405, `${method} ${path} → ${res.status}`);
    assert.is(res.headers.get('content-type'), 'application/problem+json');
  }
});

t('an admin setting an unknown role → 400; an unknown user → 404', async ({ api }) => {
  const fresh = await startTestApi();
  try {
    const admin = await fresh.client().signUp('Admin');
    isProblem(await admin.patch(`/api/users/${admin.user!.id}`, { role: 'superuser' }), 400, /role/);
    isProblem(await admin.patch('/api/users/nobody', { role: 'user' }), 404);
    assert.is((await admin.get('/api/me')).body.role, 'admin');
  } finally {
    await fresh.stop();
  }
  assert.ok(api);
});

t('impossible dates in cursors, search filters and grants → 400, never 500', async ({ api, owner }) => {
  const uuid = '00000000-0000-4000-8000-000000000000';
  for (const before of [`2026-13-45T99:99:99Z_${uuid}`, `0000-01-01T00:00:00Z_${uuid}`, `+275760-09-13T00:00:00.000Z_${uuid}`, `NaN_${uuid}`, `2026-02-30T00:00:00.000Z_${uuid}`, `2026-11-25T10:00:00.000Z_not-a-uuid`]) {
    isProblem(await owner.get(`/api/me/notifications?before=${encodeURIComponent(before)}`), 400, /cursor/);
  }
  const ok = `2026-11-25T10:00:00.000Z_${uuid}`;
  assert.is((await owner.get(`/api/me/notifications?before=${encodeURIComponent(ok)}`)).status, 200, 'a real cursor');
  const anon = api.client();
  for (const q of ['from=0000-01-01T00:00:00Z', 'to=9999-12-31T23:59:59-14:00', 'from=2026-02-30', 'from=275760-09-14', 'to=1969-12-31', 'from=2026-11-25T24:00:00Z', 'from=' + '9'.repeat(80)]) {
    isProblem(await anon.get(`/api/search?${q}`), 400);
  }
  assert.is((await anon.get('/api/search?from=2026-01-01&to=2026-11-25T10:00:00%2B02:00')).status, 200, 'real dates');
  const tier = await owner.post('/api/channels/stable/tiers', { name: 'Gold', priceCents: 500 });
  assert.is(tier.status, 201);
  const target = await api.client().signUp('Gifted');
  for (const startsAt of ['0000-01-01T00:00:00Z', '2026-02-30T00:00:00Z', 'tomorrow']) {
    isProblem(await owner.post('/api/channels/stable/subscriptions', { userId: target.user!.id, tierId: tier.body.id, startsAt }), 400);
  }
});

t('text shown to others refuses control and invisible characters (titles, tags, key labels, tier names)', async ({ owner }) => {
  for (const title of ['evil\u202eoln', 'zero\u200bwidth', 'bell\u0007', 'line\u2028break']) {
    isProblem(await owner.patch('/api/channels/stable', { title }), 400, /invisible/);
  }
  isProblem(await owner.patch('/api/channels/stable', { tags: ['ok', 'no\u200e'] }), 400, /invisible/);
  isProblem(await owner.patch('/api/channels/stable', { description: 'two\nlines and a \u202e' }), 400, /invisible/);
  isProblem(await owner.post('/api/channels/stable/stream-keys', { label: 'obs\u0007' }), 400, /invisible/);
  // a NUL is refused before the route's rules, as text no database stores (tests/api/text.test.ts)
  isProblem(await owner.post('/api/channels/stable/stream-keys', { label: 'obs\u0000' }), 400, /NUL character/);
  isProblem(await owner.post('/api/channels/stable/tiers', { name: 'gold\u2066', priceCents: 100 }), 400, /invisible/);
  await unchanged(owner);
  const fine = await owner.post('/api/channels', { slug: 'scripts', title: 'می\u200cخواهم 👨\u200d👩\u200d👧', description: 'line one\n\tline two' });
  assert.is(fine.status, 201, 'joiners (Persian, emoji sequences), tabs and line breaks in a description are fine');
});

t(`a channel offers at most 20 subscription tiers (409 past that)`, async ({ owner }) => {
  for (let i = 0; i < 20; i++) assert.is((await owner.post('/api/channels/scripts/tiers', { name: `T${i}`, priceCents: 100 + i })).status, 201, `tier ${i}`);
  isProblem(await owner.post('/api/channels/scripts/tiers', { name: 'one more', priceCents: 999 }), 409, /at most 20/);
});

t('every response was checked against the OpenAPI document', async ({ owner }) => {
  assert.equal(owner.unchecked, []);
});

t.run();
