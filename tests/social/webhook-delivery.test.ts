// @db-matrix
// @runtime-matrix
// Webhook deliveries against hostile receivers on loopback (WEBHOOK_ALLOW_PRIVATE=true here): one that sends its
// headers and then a byte a second is cut off at WEBHOOK_TIMEOUT_MS, and while it trickles another channel's delivery,
// enqueued after it, still goes out at once; a receiver streaming a huge answer is read no further than a bound; a
// redirect is never followed; a name server that never answers fails the lookup within the deadline; private
// addresses in every spelling are refused.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { isPrivateAddress, MAX_RESPONSE_BYTES, webhookLookup } from '../../api/webhooks.ts';
import { channel, liveSession } from '../../shared/db/index.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { eventually as until } from '../helpers/assertions.ts';

const TIMEOUT_MS = 3000;
type Ctx = { api: TestApi; owner: Client; servers: Server[] };
const t = suite<Ctx>('webhook deliveries against hostile receivers');

t.before(async (ctx) => {
  ctx.api = await startTestApi({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS), WEBHOOK_MAX_ATTEMPTS: '1' });
  ctx.owner = await ctx.api.client().signUp('Hook Owner');
  ctx.servers = [];
});
t.after(async (ctx) => {
  for (const s of ctx.servers) s.closeAllConnections();
  await Promise.all(ctx.servers.map((s) => new Promise((r) => s.close(r))));
  await ctx.api?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function listen(ctx: Ctx, handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  ctx.servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

/** A channel with one webhook for channel.live at `url`; goLive() starts a broadcast the way the SFU announces it. */
async function hooked(ctx: Ctx, slug: string, url: string) {
  assert.is((await ctx.owner.post('/api/channels', { slug, title: slug })).status, 201);
  const hook = await ctx.owner.post(`/api/channels/${slug}/webhooks`, { url, events: ['channel.live'] });
  assert.is(hook.status, 201, hook.text);
  const { db } = ctx.api.deps.database;
  const [ch] = await db.select().from(channel).where(eq(channel.slug, slug));
  return {
    deliveries: () => ctx.owner.get(`/api/channels/${slug}/webhooks/${hook.body.id}/deliveries`).then((r) => r.body as any[]),
    goLive: async () => {
      const id = crypto.randomUUID();
      const startedAt = new Date();
      await db.insert(liveSession).values({ id, channelId: ch!.id, source: 'whip', startedAt });
      await ctx.api.deps.bus.publish('channel.live', { channelId: ch!.id, slug, sessionId: id, source: 'whip', codecs: ['VP8'], startedAt: startedAt.toISOString() });
    },
  };
}

t('a receiver that trickles its answer is cut off at WEBHOOK_TIMEOUT_MS, and holds no other delivery meanwhile', async (ctx) => {
  let trickleStarted = 0;
  let trickleClosed = 0;
  const trickle = await listen(ctx, (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.flushHeaders();
    trickleStarted = performance.now();
    const timer = setInterval(() => res.write('.'), 1000);
    res.on('close', () => {
      clearInterval(timer);
      trickleClosed = performance.now();
    });
  });
  let promptAt = 0;
  const prompt = await listen(ctx, (req, res) => {
    req.resume();
    req.on('end', () => {
      promptAt = performance.now();
      res.writeHead(204).end();
    });
  });
  const slow = await hooked(ctx, 'trickled', trickle);
  const fast = await hooked(ctx, 'prompt', prompt);

  await slow.goLive();
  await until(async () => trickleStarted, (v) => v > 0, 'the trickling receiver to be reached');
  const enqueued = performance.now();
  await fast.goLive(); // enqueued while the trickling delivery is under way
  const [done] = await until(fast.deliveries, (d) => d[0]?.status === 'delivered', 'the other channel’s delivery', TIMEOUT_MS * 3);
  assert.is(done.responseStatus, 204);
  assert.ok(promptAt - enqueued < 1500, `delivered ${(promptAt - enqueued).toFixed(0)} ms after it was enqueued, while the other trickled`);
  assert.is(trickleClosed, 0, 'the trickling receiver is still being waited for');

  const [cut] = await until(slow.deliveries, (d) => d[0]?.status === 'failed', 'the trickling delivery to be given up', TIMEOUT_MS * 3);
  assert.match(cut.lastError, `no complete answer within ${TIMEOUT_MS} ms`);
  assert.ok(trickleClosed > 0, 'the connection to the trickling receiver was closed');
  const held = trickleClosed - trickleStarted;
  assert.ok(held >= TIMEOUT_MS - 500 && held < TIMEOUT_MS + 1500, `held ${held.toFixed(0)} ms`);
});

t('a receiver streaming a huge answer is read no further than MAX_RESPONSE_BYTES; its status counts', async (ctx) => {
  let written = 0;
  let closed = false;
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const flood = await listen(ctx, (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const more = () => {
      while (!closed && written < 200 * 1024 * 1024) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    res.on('close', () => (closed = true));
    more();
  });
  const h = await hooked(ctx, 'flooded', flood);
  await h.goLive();
  const [d] = await until(h.deliveries, (list) => list[0]?.status !== undefined && list[0].status !== 'pending', 'the flooded delivery');
  assert.is(d.status, 'delivered');
  assert.is(d.responseStatus, 200);
  await until(async () => closed, Boolean, 'the connection to be closed');
  // what the kernel buffers on both sides comes on top of what was read; far below what the receiver would send
  assert.ok(written < 32 * 1024 * 1024, `the receiver got to write ${(written / 1024 / 1024).toFixed(1)} MiB (read at most ${MAX_RESPONSE_BYTES} bytes)`);
});

t('a redirect is not followed (to loopback or anywhere): the delivery fails with the 3xx', async (ctx) => {
  let reached = 0;
  const inside = await listen(ctx, (req, res) => {
    reached++;
    req.resume();
    res.writeHead(200).end();
  });
  const redirecting = await listen(ctx, (req, res) => {
    req.resume();
    res.writeHead(307, { location: inside }).end();
  });
  const h = await hooked(ctx, 'redirected', redirecting);
  await h.goLive();
  const [d] = await until(h.deliveries, (list) => list[0]?.status === 'failed', 'the redirected delivery');
  assert.is(d.responseStatus, 307);
  assert.match(d.lastError, '307');
  await sleep(300);
  assert.is(reached, 0, 'the redirect target was never requested');
});

t('a name server that never answers fails the lookup within its timeout (not the resolver’s minutes)', async () => {
  const silent = createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
  try {
    const lookup = webhookLookup({ timeoutMs: 500, allowPrivate: false, servers: [`127.0.0.1:${silent.address().port}`] });
    const started = performance.now();
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => lookup('hooks.example.com', {}, (e) => resolve(e)));
    const took = performance.now() - started;
    assert.ok(err, 'the lookup failed');
    assert.match(err!.message, 'could not look up hooks.example.com');
    assert.ok(took < 2500, `took ${took.toFixed(0)} ms`);
  } finally {
    silent.close();
  }
});

t('private addresses are refused in every spelling; localhost names without asking DNS', async () => {
  for (const a of ['127.0.0.1', '10.1.2.3', '169.254.169.254', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:a9fe:a9fe', '64:ff9b::7f00:1', '::127.0.0.1', 'fd00::1', '[::1]', '0.0.0.0', '100.64.0.1']) {
    assert.ok(isPrivateAddress(a), a);
  }
  for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34']) assert.not.ok(isPrivateAddress(a), a);
  const lookup = webhookLookup({ timeoutMs: 500, allowPrivate: false });
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => lookup('api.localhost', {}, (e) => resolve(e)));
  assert.is(err?.code, 'EPRIVATE');
});

t.run();
