// @db-matrix
// Node and Deno serve the same API: one script of requests — every resource, as a stranger, an owner and a fan, the
// refusals too (bad input, no session, a foreign origin, too large, rate limits aside) — sent to the Node API
// (.build/api.mjs) and to the Deno API (server/deno.ts), each on a fresh database of the same kind, with the same
// settings and no media plane. Statuses, the headers a client reads and the bodies must be the same once ids, times
// and secrets are masked; every response is also checked against each one's OpenAPI document (which must match).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, dbTarget, freePort, freshDatabase, LOOSE_LIMITS, type Reply } from '../helpers/api.ts';
import { OpenApiChecker } from '../helpers/openapi.ts';
import { startProcess, waitForHttp, type Child } from '../helpers/process.ts';

type Server = { runtime: 'node' | 'deno'; base: string; spec: OpenApiChecker; child: Child; stop(): Promise<void> };

async function startServer(runtime: Server['runtime']): Promise<Server> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `glint-parity-${runtime}-`));
  const db = dbTarget === 'postgres' ? await freshDatabase('postgres') : undefined;
  const env = {
    ...process.env,
    ...LOOSE_LIMITS,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: 'http://glint.example.test', // the same in both documents and both auth configurations
    TRUSTED_ORIGINS: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.GLINT_TEST_LOG ?? 'warn',
    BETTER_AUTH_SECRET: 'parity test secret of a good length',
    // no media plane on either: WHIP/WHEP answer the same 503
    SFU_URL: 'http://127.0.0.1:9',
    RECORDER_EMBEDDED: 'false',
    ...(db ? { DATABASE_URL: db.url! } : {}),
  };
  const child =
    runtime === 'deno'
      ? startProcess('node_modules/.bin/deno', ['run', '--allow-net', '--allow-env', '--allow-read', '--allow-write', '--allow-sys', '--allow-run', 'server/deno.ts'], { env })
      : startProcess(process.execPath, ['.build/api.mjs'], { env });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/readyz`, 60_000, child);
  return {
    runtime,
    base,
    spec: await OpenApiChecker.load(base),
    child,
    stop: async () => {
      await child.stop();
      if (db) await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** What may differ between two servers: ids, times, secrets and the server's own address. */
function mask(value: string, base: string): string {
  return value
    .replaceAll(base, '<base>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/g, '<time>')
    .replace(/"(key|prefix)":"glint_[A-Za-z0-9_-]+"/g, '"$1":"glint_<secret>"') // stream keys
    .replace(/whsec_[A-Za-z0-9+/=_-]+/g, 'whsec_<secret>')
    .replace(/"(id|\w+Id)":"[A-Za-z0-9]{20,}"/g, '"$1":"<id>"') // better-auth's own ids
    .replace(/"token":"[A-Za-z0-9_-]{20,}"/g, '"token":"<token>"');
}

/** The headers a client acts on. */
const HEADERS = ['content-type', 'cache-control', 'location', 'retry-after', 'allow', 'www-authenticate', 'vary', 'accept-ranges', 'content-range', 'x-content-type-options'];

type Step = { label: string; status: number; headers: Record<string, string>; body: string };
const record = (base: string, label: string, r: Reply): Step => ({
  label,
  status: r.status,
  headers: Object.fromEntries(HEADERS.flatMap((h) => (r.headers.get(h) === null ? [] : [[h, mask(r.headers.get(h)!, base)]]))),
  body: mask(r.text, base),
});

/** The script: the same calls, in the same order, on one server. */
async function script(server: Server): Promise<Step[]> {
  const steps: Step[] = [];
  const client = () => new Client(server.base, server.spec);
  const run = async (label: string, reply: Promise<Reply>) => {
    const r = await reply;
    steps.push(record(server.base, label, r));
    return r;
  };
  const anon = client();
  const owner = client();
  const fan = client();
  await run('openapi document', anon.get('/api/openapi.json', { check: false })); // the document itself is not in it
  await run('config', anon.get('/api/config'));
  await run('healthz', anon.get('/healthz'));
  await run('readyz', anon.get('/readyz'));
  await run('no such route', anon.get('/api/nothing-here', { check: false }));
  await run('sign-up owner', owner.post('/api/auth/sign-up/email', { name: 'Olive Owner', email: 'olive@example.test', password: 'olive password' }));
  await run('sign-up fan', fan.post('/api/auth/sign-up/email', { name: 'Fred Fan', email: 'fred@example.test', password: 'fred password' }));
  await run('sign-up again', anon.post('/api/auth/sign-up/email', { name: 'Olive', email: 'olive@example.test', password: 'olive password' }));
  await run('sign-in wrong password', anon.post('/api/auth/sign-in/email', { email: 'olive@example.test', password: 'not it at all' }));
  await run('session', owner.get('/api/auth/get-session'));
  await run('me', owner.get('/api/me'));
  await run('me anonymous', anon.get('/api/me'));
  await run('create channel', owner.post('/api/channels', { slug: 'parity', title: 'Parity', description: 'Same on both', category: 'Music', tags: ['a', 'b'] }));
  await run('create channel taken', fan.post('/api/channels', { slug: 'parity', title: 'Mine' }));
  await run('create channel bad slug', owner.post('/api/channels', { slug: 'No Spaces!', title: 'x' }));
  await run('create channel wrong types', owner.post('/api/channels', { slug: 42, title: ['x'] }));
  await run('create channel not json', owner.req('POST', '/api/channels', { body: '{"slug":', headers: { 'content-type': 'application/json' } }));
  await run('create channel too large', owner.post('/api/channels', { slug: 'big', title: 'x', description: 'x'.repeat(70_000) }));
  await run('create channel anonymous', anon.post('/api/channels', { slug: 'anon', title: 'x' }));
  await run('create channel foreign origin', owner.req('POST', '/api/channels', { json: { slug: 'csrf', title: 'x' }, headers: { origin: 'https://evil.example' } }));
  await run('channel', anon.get('/api/channels/parity'));
  await run('channel missing', anon.get('/api/channels/nope'));
  await run('channels', anon.get('/api/channels'));
  await run('channels bad query', anon.get('/api/channels?limit=-3'));
  await run('update channel', owner.patch('/api/channels/parity', { title: 'Parity, renamed' }));
  await run('update channel by fan', fan.patch('/api/channels/parity', { title: 'Mine now' }));
  const key = await run('stream key', owner.post('/api/channels/parity/stream-keys', { label: 'OBS' }));
  await run('stream keys', owner.get('/api/channels/parity/stream-keys'));
  await run('stream keys by fan', fan.get('/api/channels/parity/stream-keys'));
  await run('rotate key', owner.post(`/api/channels/parity/stream-keys/${key.body.id}/rotate`, {}));
  await run('follow', fan.put('/api/channels/parity/follow'));
  await run('follow state', fan.get('/api/channels/parity/follow'));
  await run('followers', owner.get('/api/channels/parity/followers'));
  await run('following', fan.get('/api/me/following'));
  await run('notifications', fan.get('/api/me/notifications'));
  await run('notifications bad cursor', fan.get('/api/me/notifications?before=2026-13-45T99:99:99Z_x'));
  await run('tier', owner.post('/api/channels/parity/tiers', { name: 'Gold', priceCents: 500 }));
  await run('tiers', anon.get('/api/channels/parity/tiers'));
  await run('subscription none', fan.get('/api/channels/parity/subscription'));
  await run('my subscriptions', fan.get('/api/me/subscriptions'));
  await run('webhook to loopback', owner.post('/api/channels/parity/webhooks', { url: 'http://127.0.0.1:1/hook', events: ['channel.live'] }));
  await run('webhooks', owner.get('/api/channels/parity/webhooks'));
  await run('vods', anon.get('/api/channels/parity/vods'));
  await run('vod missing', anon.get('/api/vods/00000000-0000-4000-8000-000000000000'));
  await run('search', anon.get('/api/search?q=parity'));
  await run('search bad dates', anon.get('/api/search?from=2026-02-30'));
  await run('categories', anon.get('/api/categories'));
  await run('users as a user', fan.get('/api/users'));
  await run('set a role as a user', fan.patch('/api/users/nobody', { role: 'admin' }));
  await run('whep without SFU', anon.req('POST', '/whep/parity', { body: 'v=0\r\n', headers: { 'content-type': 'application/sdp' }, check: false }));
  await run('unfollow', fan.delete('/api/channels/parity/follow'));
  await run('delete channel by fan', fan.delete('/api/channels/parity'));
  await run('delete channel', owner.delete('/api/channels/parity'));
  await run('sign-out', owner.post('/api/auth/sign-out', {}));
  await run('me after sign-out', owner.get('/api/me'));
  for (const c of [anon, owner, fan]) assert.equal(c.unchecked.filter((u) => u.includes('/api/')), [], `${server.runtime}: every /api response is in the document`);
  return steps;
}

const t = suite<{ servers: Server[] }>(`Node and Deno parity (${dbTarget})`);

t.before(async (ctx) => {
  ctx.servers = [];
  // one at a time: two first starts side by side would time each other
  for (const runtime of ['node', 'deno'] as const) ctx.servers.push(await startServer(runtime));
});
t.after(async (ctx) => {
  for (const s of ctx.servers ?? []) await s.stop();
});

t('the same requests get the same answers from Node and from Deno', async ({ servers }) => {
  const [node, deno] = await Promise.all(servers.map((s) => script(s)));
  assert.is(node!.length, deno!.length);
  for (const [i, a] of node!.entries()) {
    const b = deno![i]!;
    assert.equal(b, a, `step "${a.label}" differs between Node and Deno`);
  }
  // the script exercised what it claims: refusals of each kind came back as problems
  const statuses = new Set(node!.map((s) => s.status));
  for (const s of [200, 201, 204, 400, 401, 403, 404, 409, 413, 503]) assert.ok(statuses.has(s), `the script saw a ${s}`);
});

t.run();
