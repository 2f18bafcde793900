// @db-matrix
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type TestApi } from '../helpers/api.ts';

const t = suite<{ api: TestApi }>('accounts');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

t('the first account on an empty instance becomes admin; later ones are users', async ({ api }) => {
  const first = await api.client().signUp('Ada');
  const second = await api.client().signUp('Bob');
  assert.is((await first.get('/api/me')).body.role, 'admin');
  assert.is((await second.get('/api/me')).body.role, 'user');
});

t('POST /api/auth/sign-up/email sets a session cookie and GET /api/me returns the account', async ({ api }) => {
  const c = api.client();
  const r = await c.post('/api/auth/sign-up/email', { name: 'Cleo', email: 'cleo@example.test', password: 'a good password' });
  assert.is(r.status, 200);
  assert.ok(c.cookies.size > 0, 'a session cookie is set');
  const me = await c.get('/api/me');
  assert.is(me.status, 200);
  assert.is(me.body.email, 'cleo@example.test');
  assert.is(me.body.name, 'Cleo');
});

t('sign-up cannot choose its own role', async ({ api }) => {
  const c = api.client();
  const r = await c.post('/api/auth/sign-up/email', { name: 'Mallory', email: 'mallory@example.test', password: 'a good password', role: 'admin' }, { check: false });
  if (r.status === 200) assert.is((await c.get('/api/me')).body.role, 'user');
  else assert.ok(r.status >= 400 && r.status < 500, `refused with a 4xx, got ${r.status}`);
});

t('sign-in with the right password works, a wrong one is 401, sign-out ends the session', async ({ api }) => {
  await api.client().post('/api/auth/sign-up/email', { name: 'Dan', email: 'dan@example.test', password: 'dans password' });
  const c = api.client();
  const bad = await c.post('/api/auth/sign-in/email', { email: 'dan@example.test', password: 'nope nope nope' });
  assert.is(bad.status, 401);
  assert.is((await c.get('/api/me')).status, 401);
  const ok = await c.post('/api/auth/sign-in/email', { email: 'dan@example.test', password: 'dans password' });
  assert.is(ok.status, 200);
  assert.is((await c.get('/api/me')).body.email, 'dan@example.test');
  const out = await c.post('/api/auth/sign-out', {});
  assert.is(out.status, 200);
  const after = await c.get('/api/me');
  assert.is(after.status, 401);
  assert.is(after.headers.get('content-type'), 'application/problem+json');
});

t('sign-up rejects a duplicate email, a short password and a malformed email', async ({ api }) => {
  const c = api.client();
  await c.post('/api/auth/sign-up/email', { name: 'Eve', email: 'eve@example.test', password: 'long enough' });
  const dup = await api.client().post('/api/auth/sign-up/email', { name: 'Eve2', email: 'eve@example.test', password: 'long enough' });
  assert.ok(dup.status >= 400 && dup.status < 500, `duplicate → ${dup.status}`);
  const short = await api.client().post('/api/auth/sign-up/email', { name: 'F', email: 'f@example.test', password: 'short' });
  assert.is(short.status, 400);
  const malformed = await api.client().post('/api/auth/sign-up/email', { name: 'G', email: 'not-an-email', password: 'long enough' });
  assert.is(malformed.status, 400);
  for (const name of ['', '   ', 'n'.repeat(81)]) {
    const r = await api.client().post('/api/auth/sign-up/email', { name, email: `blank${name.length}@example.test`, password: 'long enough' });
    assert.is(r.status, 400, `name of ${name.length} characters → ${r.status}`);
    assert.match(r.body.message, /name/i);
  }
});

t('a session cookie from a foreign origin is refused by better-auth (CSRF)', async ({ api }) => {
  const c = await api.client().signUp('Hal');
  const r = await c.req('POST', '/api/auth/sign-out', { json: {}, headers: { origin: 'http://evil.example' } });
  assert.is(r.status, 403);
  assert.is((await c.get('/api/me')).status, 200, 'still signed in');
});

t.run();
