// @db-matrix
// @runtime-matrix
import * as assert from 'uvu/assert';
import { apiSuite, startTestApi } from '../helpers/api.ts';

const t = apiSuite('ops: health, readiness, metrics, OpenAPI, docs, web shell');

t('GET /healthz is 200 ok', async ({ api }) => {
  const r = await api.client().get('/healthz');
  assert.is(r.status, 200);
  assert.equal(r.body, { status: 'ok' });
});

t('GET /readyz reports the database kind it reached', async ({ api }) => {
  const r = await api.client().get('/readyz');
  assert.is(r.status, 200);
  assert.is(r.body.database, process.env.GLINT_TEST_DB === 'postgres' ? 'postgres' : 'pglite');
  assert.is(r.body.bus, 'memory');
});

t('GET /readyz is 503 problem+json when the database is gone', async () => {
  const api = await startTestApi();
  try {
    await api.deps.database.close();
    const r = await api.client().get('/readyz');
    assert.is(r.status, 503);
    assert.is(r.headers.get('content-type'), 'application/problem+json');
  } finally {
    await api.stop().catch(() => undefined);
  }
});

t('GET /metrics counts requests by route template and status', async ({ api }) => {
  const c = api.client();
  await c.get('/api/channels/nope-nope');
  await c.get('/api/channels/nope-nope');
  await c.get('/healthz');
  const m = await c.get('/metrics');
  assert.is(m.status, 200);
  assert.match(m.headers.get('content-type')!, /text\/plain/);
  assert.match(m.text, /glint_http_requests_total\{method="GET",route="\/api\/channels\/:slug",status="404"\} 2/);
  assert.match(m.text, /glint_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/healthz",status="200"\}/);
  assert.not.match(m.text, /nope-nope/, 'raw paths never become labels');
  assert.match(m.text, /glint_process_resident_memory_bytes/);
});

t('GET /api/openapi.json is an OpenAPI 3.1 document covering every API route', async ({ api }) => {
  const doc = (await (await fetch(api.base + '/api/openapi.json')).json()) as any;
  assert.is(doc.openapi, '3.1.0');
  const paths = Object.keys(doc.paths);
  for (const p of ['/api/channels', '/api/channels/{slug}', '/api/channels/{slug}/avatar', '/api/channels/{slug}/stream-keys',
    '/api/channels/{slug}/stream-keys/{id}', '/api/channels/{slug}/stream-keys/{id}/rotate', '/api/me', '/api/users', '/api/users/{id}',
    '/api/auth/sign-up/email', '/api/auth/sign-in/email', '/api/auth/sign-out', '/healthz', '/readyz', '/metrics']) {
    assert.ok(paths.includes(p), `${p} is documented`);
  }
  assert.ok(doc.components.schemas.Problem, 'the Problem schema is a component');
  assert.ok(doc.components.schemas.Channel);
});

t('GET /api/docs serves the interactive reference with its assets from this server (no CDN)', async ({ api }) => {
  const page = await fetch(api.base + '/api/docs');
  assert.is(page.status, 200);
  const html = await page.text();
  assert.match(html, /\/api\/openapi\.json/);
  assert.not.match(html, /https?:\/\/(?!127\.0\.0\.1)/, 'no external URLs');
  for (const asset of html.matchAll(/(?:src|href)="(\/api\/docs\/assets\/[^"]+)"/g)) {
    const r = await fetch(api.base + asset[1]);
    assert.is(r.status, 200, asset[1]);
  }
});

t('GET / and client-side routes serve the web app shell', async ({ api }) => {
  for (const p of ['/', '/c/some-channel', '/sign-in']) {
    const r = await fetch(api.base + p);
    assert.is(r.status, 200, p);
    assert.match(r.headers.get('content-type')!, /text\/html/);
    const html = await r.text();
    assert.match(html, /<script[^>]+src="\/assets\/app\.js/);
  }
  const js = await fetch(api.base + '/assets/app.js');
  assert.is(js.status, 200);
  assert.match(js.headers.get('content-type')!, /javascript/);
  const missing = await fetch(api.base + '/assets/nope.js');
  assert.is(missing.status, 404, 'a missing asset is a 404, not the page');
});

t.run();
