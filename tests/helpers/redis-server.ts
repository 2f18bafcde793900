// A private redis-server for fault tests: started on a port of the test's choosing (so it can be killed and started
// again on the same one) and killed with SIGKILL, as a crash would.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeRedis, openRedis } from '../../shared/redis.ts';

/** Starts redis-server on `port` (no persistence) and resolves once it answers. */
export async function startRedis(port: number): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await openRedis(`redis://127.0.0.1:${port}`, 'probe', 'command', undefined).then(
      async (c) => (await closeRedis(c), true),
      () => false,
    );
    if (ok) return server;
    await new Promise((r) => setTimeout(r, 50));
  }
  server.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

/** Kills it (SIGKILL) and resolves once it has exited. */
export const killRedis = (server: ChildProcess) =>
  new Promise<void>((resolve) => (server.exitCode !== null || server.signalCode !== null ? resolve() : (server.once('exit', () => resolve()), server.kill('SIGKILL'))));
