// Child processes in tests: start, wait for readiness, and always stop (SIGTERM, then SIGKILL).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export type Child = { proc: ChildProcess; output(): string; stop(): Promise<void> };

export function startProcess(cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  proc.stdout?.on('data', (d) => (out = (out + d).slice(-20_000)));
  proc.stderr?.on('data', (d) => (out = (out + d).slice(-20_000)));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Polls a URL until it answers (any status) or the deadline passes. */
export async function waitForHttp(url: string, timeoutMs = 15_000, child?: Child): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (child && child.proc.exitCode !== null) throw new Error(`process exited before ${url} answered:\n${child.output()}`);
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms\n${child?.output() ?? ''}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
