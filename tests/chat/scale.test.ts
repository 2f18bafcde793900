// Chat across API processes: with REDIS_URL the Socket.IO Redis adapter joins their rooms and the rate limits live in
// Redis. One API runs in this process, a second one as its own process (.build/api.mjs) on the same PostgreSQL and
// Redis; a message sent through one reaches a reader on the other, and a flood spread over both meets one budget.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Socket } from 'socket.io-client';
import { freePort, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { chatSocket } from '../helpers/chat.ts';
import { startProcess, waitForHttp, type Child } from '../helpers/process.ts';

const SERVER = '.build/api.mjs';
const REDIS_URL = process.env.GLINT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = 'chat-scale-test-secret-0123456789abcdef';
type Ctx = { api: TestApi; second: Child; secondBase: string; dataDir: string; user: Client; sockets: Socket[] };
const t = suite<Ctx>('chat across two API processes (Redis adapter)');

t.before(async (ctx) => {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: npm test builds it (npm run build)`);
  const prefix = `glint-chat-${process.pid}:`;
  ctx.sockets = [];
  ctx.api = await startTestApi({ REDIS_URL, REDIS_PREFIX: prefix, BETTER_AUTH_SECRET: SECRET }, { db: 'postgres' });
  ctx.dataDir = await mkdtemp(path.join(os.tmpdir(), 'glint-chat-second-'));
  const port = await freePort();
  ctx.secondBase = `http://127.0.0.1:${port}`;
  ctx.second = startProcess(process.execPath, [SERVER], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: ctx.dataDir,
      DATABASE_URL: ctx.api.databaseUrl!,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      BETTER_AUTH_SECRET: SECRET,
      TRUSTED_ORIGINS: ctx.api.base,
      RECORDER_EMBEDDED: 'false',
      RTMP_PORT: '0',
      LOG_LEVEL: 'warn',
    },
  });
  await waitForHttp(`${ctx.secondBase}/readyz`, 60_000, ctx.second);
  ctx.user = await ctx.api.client().signUp('Everywhere');
  assert.is((await ctx.user.post('/api/channels', { slug: 'shared-room', title: 'Shared' })).status, 201);
});
t.after(async (ctx) => {
  for (const s of ctx.sockets ?? []) s.disconnect();
  await ctx.second?.stop();
  await ctx.api?.stop();
  if (ctx.dataDir) await rm(ctx.dataDir, { recursive: true, force: true });
});

async function connect(ctx: Ctx, base: string, as?: Client): Promise<Socket> {
  const socket = await chatSocket(base, as);
  ctx.sockets.push(socket);
  await socket.timeout(5000).emitWithAck('join', { channel: 'shared-room' });
  return socket;
}

t('a message sent through one API process reaches a reader connected to the other', async (ctx) => {
  const readerHere = await connect(ctx, ctx.api.base);
  const writerThere = await connect(ctx, ctx.secondBase, ctx.user); // the same session cookie works on both
  const arrived = new Promise<any>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the message did not cross processes within 5 s')), 5000);
    readerHere.once('messages', (batch) => {
      clearTimeout(timer);
      resolve(batch[0]);
    });
  });
  const ack = await writerThere.timeout(5000).emitWithAck('send', { channel: 'shared-room', text: 'from the other process' });
  assert.is(ack.ok, true, JSON.stringify(ack));
  assert.is(ack.message.author.name, 'Everywhere');
  assert.equal(await arrived, ack.message);
});

t('the rate limit is one budget across processes (kept in Redis)', async (ctx) => {
  const here = await connect(ctx, ctx.api.base, ctx.user);
  const there = await connect(ctx, ctx.secondBase, ctx.user);
  await new Promise((r) => setTimeout(r, 5000)); // the previous test's message has left the window
  const acks = [];
  for (let i = 0; i < 8; i++) acks.push(await (i % 2 ? there : here).timeout(5000).emitWithAck('send', { channel: 'shared-room', text: `burst ${i}` }));
  assert.is(acks.filter((a) => a.ok).length, 5, JSON.stringify(acks.map((a) => a.ok || a.error.code)));
  assert.ok(acks.slice(5).every((a) => !a.ok && a.error.code === 'rate-limited'));
});

t.run();
