// The real Caddy (Debian package) in front of the API with the repository's Caddyfile, on loopback ports.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import * as tus from 'tus-js-client';
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

const cookieOf = (c: Client) => [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

t('a tus upload in chunks goes through the proxy origin and its answer names the VoD (Glint-Vod-Id)', async ({ api, origin, home }) => {
  const c = await new Client(origin, api.spec).signUp('Proxied uploader');
  assert.is((await c.post('/api/channels', { slug: 'caddy-films', title: 'Films through Caddy' })).status, 201);
  const file = path.join(home, 'clip.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', file]);
  const bytes = await readFile(file);
  const vodId = await new Promise<string | null>((resolve, reject) => {
    let id: string | null = null;
    const up = new tus.Upload(bytes, {
      endpoint: `${origin}/api/uploads`,
      chunkSize: 64 * 1024,
      retryDelays: [],
      headers: { origin, cookie: cookieOf(c) },
      metadata: { channel: 'caddy-films', filename: 'clip.mp4' },
      onAfterResponse: (_req, res) => void (id = res.getHeader('Glint-Vod-Id') ?? id),
      onSuccess: () => resolve(id),
      onError: reject,
    });
    up.start();
  });
  assert.ok(vodId, 'the last chunk answered Glint-Vod-Id through Caddy');
  const list = await c.get('/api/uploads');
  assert.equal([list.body.uploads[0].status, list.body.uploads[0].vodId], ['accepted', vodId]);
});

t('Caddy streams a chunk through to the API as it arrives (the API stores bytes before the request has ended)', async ({ api, origin }) => {
  const c = await new Client(origin, api.spec).signUp('Streaming uploader');
  assert.is((await c.post('/api/channels', { slug: 'caddy-stream', title: 'Streamed' })).status, 201);
  const size = 4 * 1024 * 1024;
  const created = await fetch(`${origin}/api/uploads`, {
    method: 'POST',
    headers: { origin, cookie: cookieOf(c), 'tus-resumable': '1.0.0', 'upload-length': String(size), 'upload-metadata': `channel ${btoa('caddy-stream')},filename ${btoa('big.bin')}` },
  });
  assert.is(created.status, 201);
  const location = created.headers.get('location')!;
  const stored = path.join(api.config.uploads.dir, location.split('/').at(-1)!);
  const half = new Uint8Array(size / 2).fill(7);
  const req = request(`${origin}${location}`, {
    method: 'PATCH',
    headers: { origin, cookie: cookieOf(c), 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(size) },
  });
  const answered = new Promise<number>((resolve, reject) => {
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
  });
  req.write(half);
  // the first half reaches the API's disk while Caddy still waits for the second: it is not buffering the body
  let seen = 0;
  for (let i = 0; i < 100 && seen < size / 2; i++) {
    await new Promise((r) => setTimeout(r, 50));
    seen = (await stat(stored).catch(() => ({ size: 0 }))).size;
  }
  assert.is(seen, size / 2, 'half the chunk is stored before the rest is sent');
  req.end(half);
  // not a video: the check refuses it once complete (and removes it) — the point here is the streaming
  const status = await answered;
  assert.ok(status === 415 || status === 204, `answered ${status}`);
});

t('responses are compressed for clients that accept it', async ({ origin }) => {
  const r = await fetch(origin + '/api/openapi.json', { headers: { 'accept-encoding': 'gzip' } });
  assert.is(r.headers.get('content-encoding'), 'gzip');
});

t("a channel's ETag survives Caddy's compression: Cache-Control no-cache, 304 on If-None-Match, 200 after a change", async ({ api, origin }) => {
  const c = await new Client(origin, api.spec).signUp('Tagged');
  // long enough for Caddy to compress it (it leaves bodies under 512 bytes alone)
  assert.is((await c.post('/api/channels', { slug: 'tagged-via-caddy', title: 'ETag', description: 'x'.repeat(800) })).status, 201);
  const gz = { 'accept-encoding': 'gzip' };
  const first = await fetch(origin + '/api/channels/tagged-via-caddy', { headers: gz });
  assert.is(first.headers.get('content-encoding'), 'gzip');
  assert.is(first.headers.get('cache-control'), 'no-cache');
  const etag = first.headers.get('etag');
  assert.ok(etag, 'an ETag through Caddy');
  await first.arrayBuffer();
  const again = await fetch(origin + '/api/channels/tagged-via-caddy', { headers: { ...gz, 'if-none-match': etag! } });
  assert.is(again.status, 304);
  assert.is((await c.patch('/api/channels/tagged-via-caddy', { title: 'Changed' })).status, 200);
  const changed = await fetch(origin + '/api/channels/tagged-via-caddy', { headers: { ...gz, 'if-none-match': etag! } });
  assert.is(changed.status, 200);
  assert.is(((await changed.json()) as { title: string }).title, 'Changed');
});

t('/metrics is not exposed on the public origin', async ({ api, origin }) => {
  assert.is((await fetch(origin + '/metrics')).status, 404);
  assert.is((await fetch(api.base + '/metrics')).status, 200);
});

t.run();
