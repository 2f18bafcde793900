// @db-matrix
// @runtime-matrix
import * as assert from 'uvu/assert';
import { apiSuite } from '../helpers/api.ts';

const t = apiSuite('accounts');

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

t('POST /api/auth/update-user holds a name to the sign-up rules (length, control and invisible characters)', async ({ api }) => {
  const c = await api.client().signUp('Ivy');
  for (const name of ['n'.repeat(60_000), 'x'.repeat(81), '   ', 'evil\u202eoln', 'zero\u200bwidth', 'bell\u0007', 'a\u2028b']) {
    const r = await c.post('/api/auth/update-user', { name }, { check: false });
    assert.is(r.status, 400, `${JSON.stringify(name.slice(0, 20))} (${name.length}) → ${r.status}`);
    assert.match(r.body.message, /name/i);
  }
  assert.is((await c.get('/api/me')).body.name, 'Ivy', 'unchanged');
  const ok = await c.post('/api/auth/update-user', { name: '  Ivy \t Q.  ' }, { check: false });
  assert.is(ok.status, 200);
  assert.is((await c.get('/api/me')).body.name, 'Ivy Q.', 'trimmed, inner whitespace as one space');
  assert.is((await c.post('/api/auth/update-user', { name: 'é'.repeat(80) }, { check: false })).status, 200, '80 characters of any script');
});

t('POST /api/auth/update-user takes an image only as a bounded http(s) URL', async ({ api }) => {
  const c = await api.client().signUp('Jo');
  for (const image of ['javascript:alert(1)', 'data:image/png;base64,AAAA', 'https://example.test/' + 'a'.repeat(3000), 'not a url']) {
    const r = await c.post('/api/auth/update-user', { image }, { check: false });
    assert.is(r.status, 400, `${image.slice(0, 30)} → ${r.status}`);
  }
  assert.is((await c.post('/api/auth/update-user', { image: 'https://example.test/me.png' }, { check: false })).status, 200);
  assert.is((await c.post('/api/auth/update-user', { email: 'other@example.test' }, { check: false })).status, 400, 'the email is not changed here');
});

t('POST /api/auth/sign-up/email refuses names with invisible characters and overlong emails', async ({ api }) => {
  for (const name of ['\u202eadmin', 'tab\u0000null']) {
    const r = await api.client().post('/api/auth/sign-up/email', { name, email: `inv${name.length}@example.test`, password: 'long enough' }, { check: false });
    assert.is(r.status, 400, JSON.stringify(name));
  }
  const long = await api.client().post('/api/auth/sign-up/email', { name: 'Long', email: `${'a'.repeat(250)}@example.test`, password: 'long enough' }, { check: false });
  assert.is(long.status, 400);
});

t('a session cookie from a foreign origin is refused by better-auth (CSRF)', async ({ api }) => {
  const c = await api.client().signUp('Hal');
  const r = await c.req('POST', '/api/auth/sign-out', { json: {}, headers: { origin: 'http://evil.example' } });
  assert.is(r.status, 403);
  assert.is((await c.get('/api/me')).status, 200, 'still signed in');
});

t.run();
