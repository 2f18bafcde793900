// Starting Glint's API as its own process for a benchmark — on Node the built `.build/api.mjs` (as `npm start` runs
// it), on Deno server/deno.ts (as `npm run start:deno` runs it) — on a free loopback port, with a fresh data
// directory or a given one; and reading a process's memory and CPU from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import pg from 'pg';
import path from 'node:path';
import { freePort } from './ports.ts';

export type Runtime = 'node' | 'deno';

export type ApiProcess = {
  base: string;
  proc: ChildProcess;
  dataDir: string;
  /** ms from spawn to the first 200 of /readyz (polled every 10 ms) */
  readyMs: number;
  stop(): Promise<void>;
};

export type ApiProcessOptions = {
  runtime?: Runtime;
  /** Start on this DATA_DIR (kept by stop(), the caller owns it) instead of a fresh one (removed by stop()). */
  dataDir?: string;
  /** Node's own options before the script (e.g. --cpu-prof; NODE_OPTIONS does not take them all). */
  nodeArgs?: string[];
};

/** The `deno run …` that `npm run start:deno` ends with, read from package.json so the benchmark runs what users run. */
async function denoCommand(): Promise<string[]> {
  const { scripts } = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> };
  const run = /\bdeno (run .*)$/.exec(scripts['start:deno'] ?? '')?.[1];
  if (!run) throw new Error('package.json has no "start:deno" script ending in `deno run …`');
  return run.split(/\s+/);
}

/** Starts the API on a free port with `env` on top; resolves once /readyz answers 200. */
export async function startApiProcess(env: Record<string, string>, opts: ApiProcessOptions = {}): Promise<ApiProcess> {
  const ownDataDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'glint-bench-')));
  const port = await freePort();
  const [command, args] = opts.runtime === 'deno' ? [path.resolve('node_modules/.bin/deno'), await denoCommand()] : [process.execPath, [...(opts.nodeArgs ?? []), '.build/api.mjs']];
  const spawned = performance.now();
  const proc = spawn(command, args, {
    // RTC_PORT 0: each worker's WebRTC port a free one, so benchmark servers can run side by side
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', NODE_ENV: 'production', RTC_PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    if (await fetch(base + '/readyz').then((r) => r.ok, () => false)) break;
    if (proc.exitCode !== null) throw new Error(`the API exited (${proc.exitCode}) before it was ready`);
    if (performance.now() - spawned > 60_000) throw new Error('server did not become ready');
    await new Promise((r) => setTimeout(r, 10));
  }
  const readyMs = performance.now() - spawned;
  const exited = new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r(undefined) : proc.once('exit', r)));
  return {
    base,
    proc,
    dataDir,
    readyMs,
    stop: async () => {
      proc.kill('SIGTERM');
      // a shutdown that hangs must not hang the benchmark: it is reported, then the process is killed
      const timer = setTimeout(() => {
        console.error(`${command} ${args.join(' ')} did not exit 10 s after SIGTERM; killing it`);
        proc.kill('SIGKILL');
      }, 10_000);
      await exited;
      clearTimeout(timer);
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A process's resident memory in bytes. */
export async function rss(pid: number) {
  return Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** The resident memory of a process and its children (mediasoup workers, a migration child), in bytes. */
export async function rssOfTree(pid: number): Promise<number> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  let total = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  for (const child of children.split(/\s+/).filter(Boolean)) total += await rssOfTree(Number(child));
  return total;
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

/**
 * A new PostgreSQL database for one benchmark run (on GLINT_BENCH_PG_URL's server), empty or a copy of `template`
 * (which then must have no open connections); drop() removes it.
 */
export async function benchDatabase(name: string, opts: { template?: string } = {}): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const dbName = `glint_${name}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"${opts.template ? ` TEMPLATE "${opts.template}"` : ''}`);
  const url = new URL(PG_ADMIN);
  url.pathname = `/${dbName}`;
  return {
    name: dbName,
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Signs up a user and makes 50 channels (lift CHANNELS_PER_USER_HOUR); resolves to the slug the benchmarks read. */
export async function seedChannels(base: string): Promise<string> {
  const headers = { 'content-type': 'application/json', origin: base };
  const signUp = await fetch(base + '/api/auth/sign-up/email', { method: 'POST', headers, body: JSON.stringify({ name: 'Bench', email: 'bench@example.test', password: 'bench password' }) });
  const cookie = signUp.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  for (let i = 0; i < 50; i++) {
    const r = await fetch(base + '/api/channels', {
      method: 'POST',
      headers: { ...headers, cookie },
      body: JSON.stringify({ slug: `bench-${i}`, title: `Bench channel ${i}`, description: 'A channel for the benchmark', category: 'Test', tags: ['bench', 'http'] }),
    });
    if (r.status !== 201) throw new Error(`seed failed: ${r.status} ${await r.text()}`);
  }
  return 'bench-25';
}
