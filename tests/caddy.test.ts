// The real Caddy (Debian package) in front of the API with the repository's Caddyfile, on loopback ports.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { Client, freePort, startTestApi, type TestApi } from './helpers/api.ts';
import { chatSocket } from './helpers/chat.ts';
import { startProcess, waitForHttp, type Child } from './helpers/process.ts';

type Ctx = { api: TestApi; caddy: Child; origin: string; home: string; sfu: Server };
const t = suite<Ctx>('Caddy in front of the API');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  // a stand-in for the SFU service (a fake: it only says which upstream a request reached)
  ctx.sfu = createServer((req, res) => res.writeHead(299, { 'x-upstream': 'sfu' }).end(`${req.method} ${req.url}`));
  await new Promise<void>((resolve) => ctx.sfu.listen(0, '127.0.0.1', () => resolve()));
  const sfuHost = `127.0.0.1:${(ctx.sfu.address() as { port: number }).port}`;
  const port = await freePort();
  ctx.origin = `http://127.0.0.1:${port}`;
  ctx.home = await mkdtemp(path.join(os.tmpdir(), 'glint-caddy-'));
  const env = { ...process.env, HOME: ctx.home, XDG_DATA_HOME: ctx.home, XDG_CONFIG_HOME: ctx.home, GLINT_SITE: ctx.origin, API_UPSTREAM: new URL(ctx.api.base).host, SFU_UPSTREAM: sfuHost };
  ctx.caddy = startProcess('caddy', ['run', '--config', 'Caddyfile', '--adapter', 'caddyfile'], { env });
  await waitForHttp(ctx.origin + '/healthz', 15_000, ctx.caddy);
});
t.after(async (ctx) => {
  await ctx.caddy?.stop();
  ctx.sfu?.close();
  await ctx.api?.stop();
  if (ctx.home) await rm(ctx.home, { recursive: true, force: true });
});

t('the Caddyfile is valid for the production settings docker-compose passes', () => {
  const r = spawnSync('caddy', ['validate', '--config', 'Caddyfile', '--adapter', 'caddyfile'], {
    encoding: 'utf8',
    env: { ...process.env, HOME: os.tmpdir(), GLINT_SITE: 'live.example.com', API_UPSTREAM: 'api:8080' },
  });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr + r.stdout, /Valid configuration/);
});

t('WHIP, WHEP and the ingest settings go to the SFU service; everything else to the API', async ({ origin }) => {
  for (const [method, p] of [['POST', '/whip/chan'], ['DELETE', '/whep/chan/abc'], ['GET', '/api/ingest']] as const) {
    const r = await fetch(origin + p, { method, ...(method === 'POST' ? { body: 'v=0', headers: { 'content-type': 'application/sdp' } } : {}) });
    assert.is(r.headers.get('x-upstream'), 'sfu', `${method} ${p}`);
    assert.is(await r.text(), `${method} ${p}`);
  }
  for (const p of ['/api/config', '/api/channels', '/whipped']) {
    const r = await fetch(origin + p);
    assert.is(r.headers.get('x-upstream'), null, `${p} reaches the API`);
  }
});

t('the web app, the API, the OpenAPI document and health pass through one origin', async ({ origin }) => {
  const home = await fetch(origin + '/');
  assert.is(home.status, 200);
  assert.match(await home.text(), /<script/);
  assert.is((await fetch(origin + '/api/openapi.json')).status, 200);
  assert.is((await fetch(origin + '/healthz')).status, 200);
  assert.is((await fetch(origin + '/readyz')).status, 200);
  const missing = await fetch(origin + '/api/channels/none-here');
  assert.is(missing.status, 404);
  assert.is(missing.headers.get('content-type'), 'application/problem+json');
});

t('sign-up, a cookie-authenticated write and sign-out work through the proxy origin', async ({ api, origin }) => {
  const c = await new Client(origin, api.spec).signUp('Proxied');
  const created = await c.post('/api/channels', { slug: 'via-caddy', title: 'Through Caddy' });
  assert.is(created.status, 201);
  assert.is((await fetch(api.base + '/api/channels/via-caddy')).status, 200, 'stored in the API behind it');
  assert.is((await c.post('/api/auth/sign-out', {})).status, 200, "better-auth trusts the proxy's own origin");
  assert.is((await c.get('/api/me')).status, 401);
});

t('chat (Socket.IO over WebSocket and over long-polling) works through the proxy origin with the session cookie', async ({ api, origin }) => {
  const c = await new Client(origin, api.spec).signUp('Chatter');
  assert.is((await c.post('/api/channels', { slug: 'caddy-chat', title: 'Chat through Caddy' })).status, 201);
  for (const transport of ['websocket', 'polling'] as const) {
    const s = await chatSocket(origin, c, { transport });
    try {
      assert.is((await s.timeout(5000).emitWithAck('join', { channel: 'caddy-chat' })).ok, true);
      const ack = await s.timeout(5000).emitWithAck('send', { channel: 'caddy-chat', text: `via ${transport}` });
      assert.is(ack.ok, true, JSON.stringify(ack));
      assert.is(ack.message.author.name, 'Chatter', `${transport}: signed in through the proxied cookie`);
    } finally {
      s.disconnect();
    }
  }
});

t('responses are compressed for clients that accept it', async ({ origin }) => {
  const r = await fetch(origin + '/api/openapi.json', { headers: { 'accept-encoding': 'gzip' } });
  assert.is(r.headers.get('content-encoding'), 'gzip');
});

t('/metrics is not exposed on the public origin', async ({ api, origin }) => {
  assert.is((await fetch(origin + '/metrics')).status, 404);
  assert.is((await fetch(api.base + '/metrics')).status, 200);
});

t.run();
