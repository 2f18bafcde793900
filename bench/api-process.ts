// Starting Glint's built API (`.build/api.mjs`, as `npm start` runs it) as its own process for a benchmark, on a free
// loopback port with a fresh data directory; and reading a process's memory and CPU from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import pg from 'pg';
import path from 'node:path';
import { freePort } from './ports.ts';

export type ApiProcess = { base: string; proc: ChildProcess; dataDir: string; stop(): Promise<void> };

/** Starts .build/api.mjs on a free port with a fresh DATA_DIR and `env` on top; resolves once /readyz answers. */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'glint-bench-'));
  const port = await freePort();
  const proc = spawn(process.execPath, ['.build/api.mjs'], {
    // RTC_PORT 0: each worker's WebRTC port a free one, so benchmark servers can run side by side
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', NODE_ENV: 'production', RTC_PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (const started = Date.now(); ; ) {
    if (await fetch(base + '/readyz').then((r) => r.ok, () => false)) break;
    if (proc.exitCode !== null) throw new Error(`the API exited (${proc.exitCode}) before it was ready`);
    if (Date.now() - started > 60_000) throw new Error('server did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    proc,
    dataDir,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A process's resident memory in bytes. */
export async function rss(pid: number) {
  return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** A process's CPU time (user + system) in seconds. */
export async function cpuSeconds(pid: number) {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Signs up a user through the API; returns the session cookie header. */
export async function signUp(base: string, name: string): Promise<string> {
  const res = await fetch(base + '/api/auth/sign-up/email', {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ name, email: `${name.toLowerCase().replace(/\W+/g, '-')}-${Date.now()}@example.test`, password: 'bench password' }),
  });
  if (!res.ok) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

const PG_ADMIN = process.env.GLINT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A new PostgreSQL database for one benchmark run (on GLINT_BENCH_PG_URL's server); drop() removes it. */
export async function benchDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const dbName = `glint_${name}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const url = new URL(PG_ADMIN);
  url.pathname = `/${dbName}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await admin.end();
    },
  };
}
