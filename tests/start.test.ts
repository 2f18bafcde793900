// The embedded default as `npm start` runs it: the built bundle .build/api.mjs (npm test builds it first) as its own
// process, PGlite on disk under DATA_DIR.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './helpers/api.ts';
import { startProcess, waitForHttp, type Child } from './helpers/process.ts';

const SERVER = '.build/api.mjs';

const t = suite<{ dataDir: string }>('npm start (embedded defaults)');

t.before(async (ctx) => {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: npm test builds it (npm run build)`);
  ctx.dataDir = await mkdtemp(path.join(os.tmpdir(), 'glint-start-'));
});
t.after(async (ctx) => {
  await rm(ctx.dataDir, { recursive: true, force: true });
});

async function start(dataDir: string, port: number): Promise<Child> {
  const child = startProcess(process.execPath, [SERVER], {
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '', REDIS_URL: '' },
  });
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, child);
  return child;
}

t('starts on PGlite under DATA_DIR, prints its URL, and keeps accounts and channels across a restart', async ({ dataDir }) => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let app = await start(dataDir, port);
  let cookie = '';
  try {
    assert.match(app.output(), new RegExp(`Glint is running at ${base}`));
    const ready = await (await fetch(base + '/readyz')).json();
    assert.equal(ready, { status: 'ok', database: 'pglite', bus: 'memory' });
    assert.ok((await stat(path.join(dataDir, 'pglite'))).isDirectory(), 'the database lives on disk');
    assert.ok((await readFile(path.join(dataDir, 'secret'), 'utf8')).trim().length >= 32, 'a session secret was generated');
    const headers = { 'content-type': 'application/json', origin: base };
    const up = await fetch(base + '/api/auth/sign-up/email', { method: 'POST', headers, body: JSON.stringify({ name: 'Persist', email: 'persist@example.test', password: 'persist me please' }) });
    assert.is(up.status, 200);
    cookie = up.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const ch = await fetch(base + '/api/channels', { method: 'POST', headers: { ...headers, cookie }, body: JSON.stringify({ slug: 'kept', title: 'Kept' }) });
    assert.is(ch.status, 201);
  } finally {
    await app.stop();
  }
  assert.is(app.proc.signalCode ?? app.proc.exitCode, 0, 'SIGTERM shuts down cleanly');

  app = await start(dataDir, port);
  try {
    assert.is((await fetch(base + '/api/channels/kept')).status, 200, 'the channel survived the restart');
    const me = await fetch(base + '/api/me', { headers: { cookie } });
    assert.is(me.status, 200, 'the session survived the restart (secret and sessions persisted)');
    assert.is(((await me.json()) as any).role, 'admin');
  } finally {
    await app.stop();
  }
});

t('a bad setting stops the start with a message naming it', () => {
  const r = spawnSync(process.execPath, [SERVER], { env: { ...process.env, PORT: 'eighty' }, encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /PORT/);
});

t('npm run admin:create makes an admin on the embedded database', async ({ dataDir }) => {
  const env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' };
  const r = spawnSync('npm', ['run', '--silent', 'admin:create', '--', '--email', 'boss@example.test', '--password', 'boss password!'], { env, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /Created admin boss@example\.test/);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const app = await start(dataDir, port);
  try {
    const signIn = await fetch(base + '/api/auth/sign-in/email', { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ email: 'boss@example.test', password: 'boss password!' }) });
    assert.is(signIn.status, 200);
    const cookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    assert.is(((await (await fetch(base + '/api/me', { headers: { cookie } })).json()) as any).role, 'admin');
  } finally {
    await app.stop();
  }
});

t.run();
