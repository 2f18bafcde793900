// Redis going away under a running API (REDIS_URL set): a private redis-server is killed (SIGKILL) mid-way and
// started again on the same port. While it is away the process stays up, chat on one process works, HTTP answers,
// a live broadcast can end, and nothing rejects into nowhere; when it is back, events from other processes arrive
// again. The time from restart to the first cross-process event is printed (docs/benchmarks.md, faults).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { channel, chatMessage, liveSession } from '../../shared/db/index.ts';
import { channelWithKey, freePort, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { chatSocket } from '../helpers/chat.ts';
import { startProcess, type Child } from '../helpers/process.ts';
import { until } from '../helpers/webrtc.ts';
import { killRedis, startRedis } from '../helpers/redis-server.ts';

type Ctx = { port: number; redis?: ChildProcess; api?: TestApi; owner?: Client; publisher?: Child; escaped: unknown[] };
const t = suite<Ctx>('Redis killed under a running API');

const onEscape = (ctx: Ctx) => (err: unknown) => ctx.escaped.push(err);
let escapeHandler: (err: unknown) => void;

t.before(async (ctx) => {
  ctx.escaped = [];
  escapeHandler = onEscape(ctx);
  process.on('unhandledRejection', escapeHandler);
  process.on('uncaughtException', escapeHandler);
  ctx.port = await freePort();
  ctx.redis = await startRedis(ctx.port);
  ctx.api = await startTestApi({ REDIS_URL: `redis://127.0.0.1:${ctx.port}`, REDIS_PREFIX: `faults${ctx.port}:`, RECORDER_EMBEDDED: 'false' });
  ctx.owner = await ctx.api.client().signUp('Faulty');
});
t.after(async (ctx) => {
  await ctx.publisher?.stop();
  await ctx.api?.stop();
  if (ctx.redis && ctx.redis.exitCode === null) await killRedis(ctx.redis);
  process.off('unhandledRejection', escapeHandler);
  process.off('uncaughtException', escapeHandler);
});

t('with Redis killed, chat, HTTP and the end of a live broadcast go on; with Redis back, other processes are heard again', async (ctx) => {
  const api = ctx.api!;
  const owner = ctx.owner!;
  const prefix = api.config.redisPrefix;
  const key = await channelWithKey(owner, 'redis-fault');
  const heard: string[] = [];
  // subscribed before the fault: must be resubscribed after it
  api.deps.bus.subscribe('channel.updated', (e) => heard.push(e.slug));

  // a live broadcast (FFmpeg over RTMP, as OBS would)
  const channelId = (await api.deps.database.db.select({ id: channel.id }).from(channel).where(eq(channel.slug, 'redis-fault')))[0]!.id;
  ctx.publisher = startProcess('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '15',
    '-f', 'flv', `rtmp://127.0.0.1:${api.sfu.rtmp!.port}/live/${key}`,
  ]);
  const live = await until(async () => (await api.deps.database.db.select().from(liveSession).where(eq(liveSession.channelId, channelId)))[0], (s) => !!s, 15_000);
  assert.ok(live, `the broadcast went live\n${ctx.publisher.output()}`);

  const writer = await chatSocket(api.base, owner);
  const reader = await chatSocket(api.base);
  try {
    for (const s of [writer, reader]) assert.ok((await s.emitWithAck('join', { channel: 'redis-fault' })).ok);

    await killRedis(ctx.redis!);
    await new Promise((r) => setTimeout(r, 300));

    // chat on this process: sent, acknowledged, received
    const received = new Promise<string[]>((resolve) => reader.once('messages', (ms: { text: string }[]) => resolve(ms.map((m) => m.text))));
    const sent = await writer.timeout(10_000).emitWithAck('send', { channel: 'redis-fault', text: 'while redis is away' });
    assert.ok(sent.ok, JSON.stringify(sent));
    assert.equal(await received, ['while redis is away']);

    // HTTP, including a route that publishes on the bus (delivered in this process, dropped for others)
    assert.is((await owner.get('/api/channels/redis-fault')).status, 200);
    assert.is((await owner.patch('/api/channels/redis-fault', { title: 'Still here' })).status, 200);
    await until(async () => heard, (h) => h.includes('redis-fault'), 3_000);
    assert.ok(heard.includes('redis-fault'), 'the bus delivered in this process');
    assert.is((await api.client().get('/readyz', { check: false })).status, 200);

    // the broadcast ends while Redis is away: channel.offline cannot leave the process, which stays up
    await ctx.publisher.stop();
    ctx.publisher = undefined;
    const ended = await until(async () => (await api.deps.database.db.select().from(liveSession).where(eq(liveSession.id, live!.id)))[0], (s) => !!s?.endedAt, 15_000);
    assert.ok(ended?.endedAt, 'the broadcast ended');
    assert.equal(ctx.escaped, [], 'nothing rejected into nowhere while Redis was away');

    // Redis is back on the same port: a second process's event reaches the API's bus again
    const back = Date.now();
    ctx.redis = await startRedis(ctx.port);
    const other = new Redis(ctx.port, '127.0.0.1');
    heard.length = 0;
    try {
      const got = await until(
        async () => {
          await other.publish(`${prefix}channel.updated`, JSON.stringify({ channelId, slug: 'from-another-process' }));
          await new Promise((r) => setTimeout(r, 100));
          return heard;
        },
        (h) => h.includes('from-another-process'),
        10_000,
      );
      assert.ok(got.includes('from-another-process'), 'the subscription came back with Redis');
    } finally {
      other.disconnect();
    }
    console.log(`faults: redis restart → cross-process bus event heard again in ${Date.now() - back} ms`);

    // and the chat still works, now through the adapter again
    const again = new Promise<string[]>((resolve) => reader.once('messages', (ms: { text: string }[]) => resolve(ms.map((m) => m.text))));
    assert.ok((await writer.timeout(10_000).emitWithAck('send', { channel: 'redis-fault', text: 'redis is back' })).ok);
    assert.equal(await again, ['redis is back']);
    const stored = await api.deps.database.db.select({ body: chatMessage.body }).from(chatMessage).where(eq(chatMessage.channelId, channelId));
    assert.equal(stored.map((m) => m.body).sort(), ['redis is back', 'while redis is away']);
    assert.equal(ctx.escaped, [], 'nothing escaped after Redis came back');
  } finally {
    writer.disconnect();
    reader.disconnect();
  }
});

t.run();
