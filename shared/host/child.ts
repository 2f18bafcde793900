// A short-lived child process of the runtime this one runs on (node or deno), running one ES module script to its
// end: the embedded database's first start and migrations run in one, so their WebAssembly memory is returned when it
// exits (shared/db/index.ts). Host-specific: the web platform starts no processes; Deno runs this module through its
// Node compatibility (node:child_process), and the child is started as `deno eval` there.
import { spawnSync } from 'node:child_process';

/** Runs `source` (an ES module; top-level await allowed) in a child and waits for it; its stderr when it failed. */
export function runScript(source: string): { ok: true } | { ok: false; stderr: string } {
  const args = 'Deno' in globalThis ? ['eval', source] : ['--input-type=module', '-e', source];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  return r.status === 0 ? { ok: true } : { ok: false, stderr: r.stderr ?? String(r.error) };
}
