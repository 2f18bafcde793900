// Closing a Redis connection while Redis is away: the connection ends for good (a shutdown that left one
// reconnecting would keep the process alive forever — the API's stop() after a Redis outage did).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { closeRedis, openRedis } from '../../shared/redis.ts';
import { freePort } from '../helpers/api.ts';
import { killRedis, startRedis } from '../helpers/redis-server.ts';

const t = suite<{ port: number; server?: ChildProcess }>('closeRedis');

t.before(async (ctx) => {
  ctx.port = await freePort();
});
t.after(async (ctx) => ctx.server && (await killRedis(ctx.server)));

for (const role of ['command', 'subscriber'] as const) {
  t(`a ${role} connection closed while Redis is away ends and stops reconnecting`, async (ctx) => {
    ctx.server = await startRedis(ctx.port);
    const client = await openRedis(`redis://127.0.0.1:${ctx.port}`, 'test', role, undefined);
    try {
      await killRedis(ctx.server);
      for (let i = 0; i < 100 && client.status === 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(['reconnecting', 'connecting'].includes(client.status), `away: ${client.status}`);
      await closeRedis(client);
      // Redis comes back: a closed connection must not return to it (nor keep a reconnect timer alive meanwhile)
      let readies = 0;
      client.on('ready', () => readies++);
      ctx.server = await startRedis(ctx.port);
      await new Promise((r) => setTimeout(r, 1500));
      assert.is(readies, 0, 'it reconnected after being closed');
      assert.is.not(client.status, 'ready');
      await killRedis(ctx.server);
    } finally {
      client.disconnect(); // a failed assertion must not leave it retrying (the file would never exit)
    }
  });
}

t('a connected one quits cleanly', async (ctx) => {
  ctx.server = await startRedis(ctx.port);
  const client = await openRedis(`redis://127.0.0.1:${ctx.port}`, 'test', 'command', undefined);
  await client.set('k', 'v');
  const ended = new Promise((r) => client.once('end', r));
  await closeRedis(client);
  await ended;
  assert.is(client.status, 'end');
});

t('a connection that cannot be opened rejects and leaves nothing retrying in the background', async () => {
  // a "Redis" that hangs up on every connection: each attempt the client makes is counted
  let attempts = 0;
  const server = createServer((socket) => {
    attempts++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await openRedis(`redis://127.0.0.1:${port}`, 'test', 'command', undefined).then(
      () => assert.unreachable('it connected to nothing'),
      (err: Error) => assert.instance(err, Error),
    );
    const after = attempts;
    await new Promise((r) => setTimeout(r, 1500)); // ioredis retries within 50–2000 ms when left alone
    assert.is(attempts, after, 'it went on trying to connect after openRedis gave up');
  } finally {
    await new Promise((r) => server.close(r));
  }
});

t.run();
