// @db-matrix — PGlite refuses a lone surrogate that PostgreSQL's driver silently replaces; both refuse NUL
// @runtime-matrix
// Text no database can store (U+0000, lone UTF-16 surrogates) is a 400 problem naming where it is, wherever a client
// puts it: path, query, JSON body, better-auth's bodies; and better-auth's own errors are problem+json too.
import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type Client, type Reply, type TestApi } from '../helpers/api.ts';
import { isProblem } from '../helpers/assertions.ts';
import { capturingLogger } from '../helpers/fuzz/common.ts';

type Ctx = { api: TestApi; owner: Client; capture: ReturnType<typeof capturingLogger> };
const t = suite<Ctx>('text no database stores');

t.before(async (ctx) => {
  ctx.capture = capturingLogger('warn');
  ctx.api = await startTestApi({}, { log: ctx.capture.log });
  ctx.owner = await ctx.api.client().signUp('Owner');
  assert.is((await ctx.owner.post('/api/channels', { slug: 'stable', title: 'Stable', description: 'keep me' })).status, 201);
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});


const NUL = /NUL character/;
const SURROGATE = /invalid Unicode/;

t('GET /api/channels/a%00b and every /api/channels/{slug}/… route is 400, not a database error', async ({ owner }) => {
  for (const path of ['/api/channels/a%00b', '/api/channels/%00/stream-keys', '/api/channels/a%00b/tiers', '/api/channels/%00/subscriptions']) {
    const r = await owner.get(path);
    isProblem(r, 400, NUL);
    assert.is(r.body.errors[0].path, 'path');
  }
  isProblem(await owner.delete('/api/channels/a%00b/follow'), 400, NUL);
  isProblem(await owner.post('/api/channels/a%00b/tiers', { name: 'T', priceCents: 100 }), 400, NUL);
});

t('a NUL in any query value (owner, q, category, tag, search) is 400 naming the parameter', async ({ owner }) => {
  for (const [path, param] of [
    ['/api/channels?owner=a%00b', 'query.owner'],
    ['/api/channels?q=a%00b', 'query.q'],
    ['/api/channels?category=a%00b', 'query.category'],
    ['/api/channels?tag=a%00b', 'query.tag'],
    ['/api/search?q=a%00b', 'query.q'],
  ] as const) {
    const r = await owner.get(path);
    isProblem(r, 400, NUL);
    assert.is(r.body.errors[0].path, param, path);
  }
});

t('a NUL or a lone surrogate in a JSON body field is 400 naming the field; nothing changes', async ({ owner }) => {
  for (const [bad, rule] of [['a\u0000b', NUL], ['奰\udcd2', SURROGATE], ['x\ud800y', SURROGATE]] as const) {
    let r = await owner.patch('/api/channels/stable', { title: bad });
    isProblem(r, 400, rule);
    assert.is(r.body.errors[0].path, 'json.title');
    isProblem(await owner.patch('/api/channels/stable', { description: bad }), 400, rule);
    isProblem(await owner.post('/api/channels', { slug: 'new-one', title: bad }), 400, rule);
    isProblem(await owner.post('/api/channels/stable/stream-keys', { label: bad }), 400, rule);
    isProblem(await owner.post('/api/channels/stable/tiers', { name: bad, priceCents: 100 }), 400, rule);
    isProblem(await owner.post('/api/channels/stable/webhooks', { url: `https://hooks.example.test/${bad}` }), 400, rule);
    r = await owner.patch('/api/channels/stable', { tags: ['ok', bad] });
    isProblem(r, 400, rule);
    assert.is(r.body.errors[0].path, 'json.tags.1');
    isProblem(await owner.patch('/api/channels/stable', { [bad]: 'x' }), 400, rule);
    // any JSON media type the validators parse (a route not behind the JSON-only rule)
    const vod = await owner.req('PATCH', `/api/vods/${randomUUID()}`, { body: JSON.stringify({ title: bad }), headers: { 'content-type': 'application/merge-patch+json' } });
    isProblem(vod, 400, rule);
  }
  const r = await owner.get('/api/channels/stable');
  assert.is(r.body.title, 'Stable');
  assert.is(r.body.description, 'keep me');
  assert.is((await owner.get('/api/channels/new-one')).status, 404);
});

t('a JSON body nested 10 000 levels deep is 400, and the API carries on', async ({ api, owner }) => {
  const deep = '{"title":' + '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) + '}';
  const r = await owner.req('PATCH', '/api/channels/stable', { body: deep, headers: { 'content-type': 'application/json' } });
  isProblem(r, 400, /nested more than \d+ levels/);
  const arrays = await api.client().req('POST', '/api/auth/sign-in/email', { body: '['.repeat(10_000) + ']'.repeat(10_000), headers: { 'content-type': 'application/json' } });
  isProblem(arrays, 400, /nested/);
  assert.is((await owner.get('/api/channels/stable')).status, 200);
});

t('malformed JSON is still the validator\'s 400, and a good body still reaches the route', async ({ owner }) => {
  isProblem(await owner.req('PATCH', '/api/channels/stable', { body: '{"title":', headers: { 'content-type': 'application/json' } }), 400);
  const ok = await owner.patch('/api/channels/stable', { title: 'Stable ✓ 😀' });
  assert.is(ok.status, 200, ok.text);
  assert.is(ok.body.title, 'Stable ✓ 😀', 'surrogate pairs are fine');
  assert.is((await owner.patch('/api/channels/stable', { title: 'Stable' })).status, 200);
});

t('POST /api/auth/sign-up/email with a NUL or lone surrogate in the name is 400 before better-auth sees it', async ({ api }) => {
  for (const name of ['a\u0000b', 'x\ud800y']) {
    const r = await api.client().post('/api/auth/sign-up/email', { name, email: `text${name.length}${name.charCodeAt(1)}@example.test`, password: 'long enough' });
    isProblem(r, 400);
    assert.is(r.body.errors[0].path, 'json.name');
  }
  const form = await api.client().req('POST', '/api/auth/sign-up/email', {
    body: 'name=a%00b&email=form%40example.test&password=long+enough',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  isProblem(form, 400, NUL);
  assert.is(form.body.errors[0].path, 'form.name');
});

t("better-auth's errors are problem+json and keep its code and message", async ({ api }) => {
  await api.client().signUp('Dan', 'dan@example.test', 'dans password');
  const c = api.client();
  const wrong = await c.post('/api/auth/sign-in/email', { email: 'dan@example.test', password: 'nope nope nope' });
  isProblem(wrong, 401);
  assert.is(wrong.body.code, 'INVALID_EMAIL_OR_PASSWORD');
  assert.type(wrong.body.message, 'string');
  assert.ok(wrong.body.detail.length > 5);
  const invalid = await c.post('/api/auth/sign-in/email', { email: { nested: true }, password: 'x' });
  isProblem(invalid, 400);
  assert.is(invalid.body.code, 'VALIDATION_ERROR');
  assert.is(invalid.body.errors[0].path, 'json.email');
  const dup = await api.client().post('/api/auth/sign-up/email', { name: 'Dan', email: 'dan@example.test', password: 'long enough' });
  isProblem(dup, 422);
  assert.match(dup.body.code, /USER_ALREADY_EXISTS/);
  const noBody = await c.req('POST', '/api/auth/sign-out');
  isProblem(noBody, 415);
  assert.is(noBody.body.code, 'UNSUPPORTED_MEDIA_TYPE');
  const unknown = await c.post('/api/auth/sign-out/', {}, { check: false });
  isProblem(unknown, 404, /No route for POST \/api\/auth\/sign-out\//);
  // the success path is untouched
  const ok = await c.post('/api/auth/sign-in/email', { email: 'dan@example.test', password: 'dans password' });
  assert.is(ok.status, 200);
  assert.is(ok.body.user.email, 'dan@example.test');
});

t('the OpenAPI document lists 400 on every operation, 413 and 415 on JSON state changes, 415 on sign-out', async ({ api }) => {
  const doc = await (await fetch(`${api.base}/api/openapi.json`)).json();
  const missing: string[] = [];
  for (const [path, item] of Object.entries<Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>(doc.paths)) {
    if (!path.startsWith('/api/')) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!op.responses) continue;
      if (!op.responses['400']) missing.push(`${method} ${path} 400`);
      if (['post', 'put', 'patch'].includes(method)) {
        for (const s of ['413', '415']) if (!op.responses[s]) missing.push(`${method} ${path} ${s}`);
      }
    }
  }
  assert.equal(missing, []);
  for (const s of ['400', '401', '403', '413', '415', '429']) assert.ok(doc.paths['/api/auth/sign-in/email'].post.responses[s], `sign-in ${s}`);
  assert.ok(doc.paths['/api/auth/sign-up/email'].post.responses['422'].content['application/problem+json']);
});

t('no error-level log line came from any of it', async ({ capture }) => {
  assert.equal(capture.errors().map((l) => l.msg), []);
});

t.run();
