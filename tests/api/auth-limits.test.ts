// @runtime-matrix
// Per-address limits on better-auth's endpoints and on sign-ups: the address is the connection's peer unless the
// peer is a trusted proxy, whatever X-Forwarded-For (or better-auth's own address header) the client sends.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../shared/config.ts';
import { CLIENT_ADDRESS_HEADER } from '../../api/auth.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';

const t = suite('auth limits');
const signIn = (api: TestApi, headers: Record<string, string> = {}) =>
  api.client().post('/api/auth/sign-in/email', { email: 'nobody@example.test', password: 'not the password' }, { headers });

t('the sensitive auth endpoints are limited by default in every NODE_ENV', () => {
  for (const NODE_ENV of ['development', 'test', 'production']) {
    const { limits } = loadConfig({ NODE_ENV });
    assert.is(limits.authAttempts, 5, NODE_ENV);
    assert.is(limits.authWindowSeconds, 60, NODE_ENV);
  }
});

t('POST /api/auth/sign-in/email: a spoofed X-Forwarded-For from an untrusted peer does not escape the limit', async () => {
  const api = await startTestApi({ AUTH_ATTEMPTS: '3' });
  try {
    for (let i = 1; i <= 3; i++) {
      const r = await signIn(api, { 'x-forwarded-for': `198.51.100.${i}`, [CLIENT_ADDRESS_HEADER]: `198.51.100.${i}` });
      assert.is(r.status, 401, `attempt ${i}`);
    }
    const refused = await signIn(api, { 'x-forwarded-for': '198.51.100.99', [CLIENT_ADDRESS_HEADER]: '198.51.100.99' });
    assert.is(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, `Retry-After: ${refused.headers.get('retry-after')}`);
  } finally {
    await api.stop();
  }
});

t('POST /api/auth/sign-in/email with TRUSTED_PROXIES=loopback limits the forwarded address', async () => {
  const api = await startTestApi({ AUTH_ATTEMPTS: '3', TRUSTED_PROXIES: 'loopback' });
  try {
    const from = (a: string) => ({ 'x-forwarded-for': a });
    for (let i = 1; i <= 3; i++) assert.is((await signIn(api, from('203.0.113.7'))).status, 401, `attempt ${i}`);
    assert.is((await signIn(api, from('203.0.113.7'))).status, 429, 'the fourth from that client');
    assert.is((await signIn(api, from('203.0.113.8'))).status, 401, 'another client behind the same proxy is not limited');
    assert.is((await signIn(api, { 'x-forwarded-for': '203.0.113.9', [CLIENT_ADDRESS_HEADER]: '203.0.113.7' })).status, 401, 'better-auth reads the address the API resolved, not the client\'s header');
  } finally {
    await api.stop();
  }
});

t('POST /api/auth/sign-up/email past SIGNUPS_PER_ADDRESS_HOUR is a 429 problem with Retry-After', async () => {
  const api = await startTestApi({ SIGNUPS_PER_ADDRESS_HOUR: '2', TRUSTED_PROXIES: 'loopback' });
  try {
    const from = { headers: { 'x-forwarded-for': '203.0.113.20' } };
    for (const name of ['One', 'Two']) {
      const r = await api.client().post('/api/auth/sign-up/email', { name, email: `${name}@example.test`, password: 'long enough' }, from);
      assert.is(r.status, 200, name);
    }
    const third = await api.client().post('/api/auth/sign-up/email', { name: 'Three', email: 'three@example.test', password: 'long enough' }, from);
    assert.is(third.status, 429);
    assert.is(third.headers.get('content-type'), 'application/problem+json');
    assert.ok(Number(third.headers.get('retry-after')) > 60, `Retry-After: ${third.headers.get('retry-after')}`);
    const elsewhere = await api.client().post('/api/auth/sign-up/email', { name: 'Four', email: 'four@example.test', password: 'long enough' }, { headers: { 'x-forwarded-for': '203.0.113.21' } });
    assert.is(elsewhere.status, 200, 'another address may still sign up');
  } finally {
    await api.stop();
  }
});

t('POST /api/auth/sign-up/email past SIGNUPS_PER_HOUR is refused for every address', async () => {
  const api = await startTestApi({ SIGNUPS_PER_HOUR: '2', TRUSTED_PROXIES: 'loopback' });
  try {
    for (let i = 0; i < 2; i++) {
      const r = await api.client().post('/api/auth/sign-up/email', { name: `U${i}`, email: `u${i}@example.test`, password: 'long enough' }, { headers: { 'x-forwarded-for': `203.0.113.${30 + i}` } });
      assert.is(r.status, 200);
    }
    const r = await api.client().post('/api/auth/sign-up/email', { name: 'U9', email: 'u9@example.test', password: 'long enough' }, { headers: { 'x-forwarded-for': '203.0.113.39' } });
    assert.is(r.status, 429);
  } finally {
    await api.stop();
  }
});

t('with REDIS_URL two API processes draw sign-in attempts and searches from one budget', async () => {
  const shared = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `glint-test-${process.pid}-${Date.now()}:`, AUTH_ATTEMPTS: '3', SEARCHES_PER_ADDRESS_SECOND: '2' };
  const a = await startTestApi(shared);
  const b = await startTestApi(shared);
  try {
    assert.is((await signIn(a)).status, 401);
    assert.is((await signIn(b)).status, 401);
    assert.is((await signIn(a)).status, 401);
    assert.is((await signIn(b)).status, 429, 'the fourth attempt, on the other process');
    assert.is((await a.client().get('/api/search?q=x')).status, 200);
    assert.is((await b.client().get('/api/search?q=x')).status, 200);
    assert.is((await a.client().get('/api/search?q=x')).status, 429);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

t.run();
