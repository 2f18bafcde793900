// @runtime-matrix
// Cross-site request forgery: a state change that carries the session cookie must come from Glint's origin (or a
// trusted one), body-less ones included; requests without cookies (API clients) are not affected.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';

const t = suite<{ api: TestApi; owner: Client; fan: Client }>('csrf');

t.before(async (ctx) => {
  ctx.api = await startTestApi({ TRUSTED_ORIGINS: 'https://app.example.test' });
  ctx.owner = await ctx.api.client().signUp('Owner');
  assert.is((await ctx.owner.post('/api/channels', { slug: 'target', title: 'Target' })).status, 201);
  ctx.fan = await ctx.api.client().signUp('Fan');
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

const following = async (fan: Client) => (await fan.get('/api/channels/target/follow')).body.following as boolean;

/** The fan's cookie with exactly these headers (no Origin unless given), as a browser or a script might send it. */
const raw = (api: TestApi, fan: Client, method: string, path: string, headers: Record<string, string>) =>
  fetch(api.base + path, { method, headers: { cookie: [...fan.cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...headers } });

t('PUT /api/channels/:slug/follow with the session cookie from a foreign origin is a 403 problem', async ({ api, fan }) => {
  const r = await fan.put('/api/channels/target/follow', { headers: { origin: 'https://evil.example' } });
  assert.is(r.status, 403);
  assert.is(r.headers.get('content-type'), 'application/problem+json');
  assert.match(r.body.detail, /evil\.example/);
  assert.is(await following(fan), false, 'nothing changed');
  assert.is((await raw(api, fan, 'PUT', '/api/channels/target/follow', { referer: 'https://evil.example/page' })).status, 403, 'a Referer from elsewhere');
});

t('a cookie-carrying state change without Origin, or marked cross-site by the browser, is 403', async ({ api, fan }) => {
  assert.is((await raw(api, fan, 'POST', '/api/me/notifications/read-all', {})).status, 403, 'no Origin at all');
  assert.is((await raw(api, fan, 'DELETE', '/api/channels/target/follow', { 'sec-fetch-site': 'cross-site', origin: api.base })).status, 403, 'Sec-Fetch-Site: cross-site');
  assert.is((await raw(api, fan, 'PUT', '/api/channels/target/follow', { origin: 'null' })).status, 403, 'an opaque origin');
});

t('the same origin and TRUSTED_ORIGINS may change state; safe methods and cookie-less requests are not checked', async ({ api, fan }) => {
  assert.is((await fan.put('/api/channels/target/follow')).status, 200, 'same origin');
  assert.is(await following(fan), true);
  assert.is((await raw(api, fan, 'DELETE', '/api/channels/target/follow', { origin: 'https://app.example.test', 'sec-fetch-site': 'cross-site' })).status, 200, 'a trusted origin');
  assert.is((await raw(api, fan, 'GET', '/api/me', { origin: 'https://evil.example' })).status, 200, 'reading is not a state change');
  const anon = await fetch(api.base + '/api/channels/target/follow', { method: 'PUT' });
  assert.is(anon.status, 401, 'no cookie, no Origin: an API client, refused only for not being signed in');
});

t.run();
