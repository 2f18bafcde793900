// Glint's API as its own process, started as `npm start` starts it (the bundle from `npm run build`), for benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';

export type ApiProcess = { base: string; proc: ChildProcess; dataDir: string; stop(): Promise<void> };

/** Starts .build/api.mjs on a free port with a fresh DATA_DIR and `env` on top; resolves once /readyz answers. */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'glint-bench-'));
  const port = await freePort();
  const proc = spawn(process.execPath, ['.build/api.mjs'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', NODE_ENV: 'production', ...env },
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
