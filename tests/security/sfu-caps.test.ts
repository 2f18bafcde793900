// The SFU's caps on strangers: WHEP offers per address per minute, WHEP sessions per address, viewers per channel
// and worker, payload-type numberings per channel (their branch routers released with their last viewer), failed WHIP authorizations per address, and running
// out of media ports. Refusals are 429 (the address's budget) or 503 (capacity) with Retry-After, never a 500.
// Offers are crafted (tests/helpers/whep-offer.ts); addresses are told apart by X-Forwarded-For from a trusted
// loopback proxy, as behind Caddy.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { channelWithKey, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { publish, unpublish, until, withKey } from '../helpers/webrtc.ts';
import { whepOffer } from '../helpers/whep-offer.ts';
import { AppError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { Room } from '../../sfu/Room.ts';
import { WorkerPool } from '../../sfu/WorkerPool.ts';
import type { Page } from 'playwright-core';

const CAPS = {
  TRUSTED_PROXIES: 'loopback',
  SFU_WORKERS: '2',
  WHEP_OFFERS_PER_MINUTE: '8',
  WHEP_SESSIONS_PER_ADDRESS: '3',
  SFU_VIEWERS_PER_CHANNEL: '3', // per worker: the channel takes 6
  SFU_MAX_VIEWERS: '20', // above the channel's, so the channel's cap is the one refusing
  SFU_NUMBERINGS_PER_CHANNEL: '2',
  WHIP_AUTH_FAILURES_PER_MINUTE: '3',
};

type Ctx = { api: TestApi; owner: Client; browser: Browser; page: Page; key: string };
const t = suite<Ctx>('SFU caps');

t.before(async (ctx) => {
  ctx.api = await startTestApi(CAPS);
  ctx.owner = await ctx.api.client().signUp('Capped');
  ctx.key = await channelWithKey(ctx.owner, 'capped');
  ctx.browser = await launchBrowser({ fakeMedia: true });
  ctx.page = await ctx.browser.context.newPage();
  await ctx.page.goto(ctx.api.base + '/');
  const p = await publish(ctx.page, { slug: 'capped', key: ctx.key });
  if (p.status !== 201) throw new Error(`publish: ${p.status} ${p.body}`);
  await until(async () => ctx.api.sfu.room('capped')?.codecs.length ?? 0, (n) => n === 2, 10_000);
});
t.after(async (ctx) => {
  if (ctx.page) await unpublish(ctx.page).catch(() => undefined);
  await ctx.browser?.close();
  await ctx.api?.stop();
});

const offer = (api: TestApi, from: string, opts: { slug?: string; sdp?: string } = {}) =>
  fetch(`${api.base}/whep/${opts.slug ?? 'capped'}`, { method: 'POST', headers: { 'content-type': 'application/sdp', 'x-forwarded-for': from }, body: opts.sdp ?? whepOffer() });

const end = (api: TestApi, location: string) => fetch(api.base + location, { method: 'DELETE' });

/** A refusal as the caps must give it: status, problem+json, a Retry-After of a sensible number of seconds. */
async function refused(res: Response, status: 429 | 503, max = 60) {
  assert.is(res.status, status, await res.clone().text());
  assert.is(res.headers.get('content-type'), 'application/problem+json');
  const wait = Number(res.headers.get('retry-after'));
  assert.ok(wait >= 1 && wait <= max, `Retry-After: ${res.headers.get('retry-after')}`);
  await res.body?.cancel();
}

t('POST /whep/:slug beyond WHEP_OFFERS_PER_MINUTE from one address is 429 with Retry-After; other addresses are not affected', async ({ api }) => {
  for (let i = 0; i < 8; i++) assert.is((await offer(api, '198.51.100.1', { slug: 'nobody-here' })).status, 404);
  await refused(await offer(api, '198.51.100.1', { slug: 'nobody-here' }), 429);
  await refused(await offer(api, '198.51.100.1'), 429); // a live channel too: the budget is the address's
  assert.is((await offer(api, '198.51.100.2', { slug: 'nobody-here' })).status, 404);
});

t('an address holding WHEP_SESSIONS_PER_ADDRESS sessions is refused with 429; DELETE frees its share', async ({ api }) => {
  const held: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await offer(api, '198.51.100.10');
    assert.is(res.status, 201, await res.text());
    held.push(res.headers.get('location')!);
  }
  await refused(await offer(api, '198.51.100.10'), 429);
  const other = await offer(api, '198.51.100.11');
  assert.is(other.status, 201, 'another address still watches');
  assert.is((await end(api, held.pop()!)).status, 200);
  const again = await offer(api, '198.51.100.10');
  assert.is(again.status, 201);
  held.push(again.headers.get('location')!);
  for (const l of held) await end(api, l);
  await end(api, other.headers.get('location')!);
  assert.is(api.sfu.room('capped')!.viewerCount, 0);
});

t('a channel holding SFU_VIEWERS_PER_CHANNEL viewers on every worker refuses the next with 503 and Retry-After', async ({ api }) => {
  const room = api.sfu.room('capped')!;
  const held: string[] = [];
  for (let i = 0; room.viewerCount < 6; i++) {
    const res = await offer(api, `198.51.100.${20 + i}`);
    assert.is(res.status, 201, await res.text());
    held.push(res.headers.get('location')!);
  }
  assert.equal(room.placement().viewersByWorker, { 0: 3, 1: 3 }, 'three on each worker');
  await refused(await offer(api, '198.51.100.40'), 503);
  assert.is(room.viewerCount, 6);
  await end(api, held.pop()!);
  const next = await offer(api, '198.51.100.40');
  assert.is(next.status, 201, 'room again once a viewer left');
  held.push(next.headers.get('location')!);
  for (const l of held) await end(api, l);
});

t('numberings: at most SFU_NUMBERINGS_PER_CHANNEL besides the room\'s at once (503), each closed with its last viewer', async ({ api }) => {
  const room = api.sfu.room('capped')!;
  assert.is(room.viewerCount, 0);
  const before = await room.dump();
  const numberings = [{ vp8: 96 }, { vp8: 98 }, { vp8: 120 }];
  const first = await offer(api, '198.51.100.50', { sdp: whepOffer(numberings[0]) });
  assert.is(first.status, 201, await first.text());
  const firstToo = await offer(api, '198.51.100.51', { sdp: whepOffer(numberings[0]) });
  assert.is(firstToo.status, 201, 'the same numbering again');
  const second = await offer(api, '198.51.100.52', { sdp: whepOffer(numberings[1]) });
  assert.is(second.status, 201, await second.clone().text());
  assert.is(room.numberingCount, 2);
  await refused(await offer(api, '198.51.100.53', { sdp: whepOffer(numberings[2]) }), 503);
  assert.is(room.numberingCount, 2, 'a refused numbering leaves no edge behind');

  await end(api, first.headers.get('location')!);
  assert.is(room.numberingCount, 2, 'the numbering is served while a viewer uses it');
  await end(api, firstToo.headers.get('location')!);
  assert.is(room.numberingCount, 1, 'its last viewer gone, its branches close');
  const third = await offer(api, '198.51.100.53', { sdp: whepOffer(numberings[2]) });
  assert.is(third.status, 201, 'and makes room for another numbering');
  await end(api, second.headers.get('location')!);
  await end(api, third.headers.get('location')!);
  assert.is(room.numberingCount, 0);
  const after = await until(() => room.dump(), (d) => d.transports <= before.transports, 3_000);
  assert.equal(after, before, 'branch routers and their pipe transports are gone');
  assert.equal(room.placement().branches, [], 'no branch is left');
});

t('POST /whip/:slug after WHIP_AUTH_FAILURES_PER_MINUTE wrong keys from one address is 429, even with the right key', async ({ api, owner }) => {
  const key = await channelWithKey(owner, 'guessed');
  const whip = (from: string, token: string) =>
    fetch(`${api.base}/whip/guessed`, { method: 'POST', headers: { 'content-type': 'application/sdp', 'x-forwarded-for': from, ...withKey(token) }, body: 'hello' });
  for (let i = 0; i < 3; i++) assert.is((await whip('198.51.100.60', `glint_guess${i}`)).status, 401);
  await refused(await whip('198.51.100.60', 'glint_guess3'), 429);
  await refused(await whip('198.51.100.60', key), 429);
  assert.is((await whip('198.51.100.61', key)).status, 400, 'another address gets past the key check (and fails on the body)');
});

t('DELETE /whip/:slug/:resource with wrong keys counts as guessing too: 401, then 429', async ({ api, page }) => {
  const location = await page.evaluate(() => (window as any).__pub.location as string);
  const del = (token: string) => fetch(api.base + location, { method: 'DELETE', headers: { 'x-forwarded-for': '198.51.100.70', ...withKey(token) } });
  for (let i = 0; i < 3; i++) assert.is((await del(`glint_guess${i}`)).status, 401);
  await refused(await del('glint_guess3'), 429);
  assert.ok(api.sfu.room('capped')?.publisherId, 'the broadcast goes on');
});

t('ICE over TCP: a viewer given only the TCP candidate of the worker\'s WebRtcServer plays', async ({ api, browser }) => {
  const page = await browser.context.newPage();
  try {
    await page.goto(api.base + '/');
    const result = await page.evaluate(async () => {
      const pc = new RTCPeerConnection({ iceServers: [] });
      pc.addTransceiver('video', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise((r) => setTimeout(r, 500));
      const res = await fetch('/whep/capped', { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
      const answer = await res.text();
      if (res.status !== 201) return { status: res.status, answer };
      const tcpOnly = answer.split('\r\n').filter((l) => !/^a=candidate:\S+ 1 udp /i.test(l)).join('\r\n');
      await pc.setRemoteDescription({ type: 'answer', sdp: tcpOnly });
      const location = res.headers.get('location');
      for (let i = 0; i < 100; i++) {
        let frames = 0;
        let protocol = '';
        const stats = await pc.getStats();
        stats.forEach((s: any) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded ?? 0;
          if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') protocol = stats.get(s.remoteCandidateId)?.protocol ?? '';
        });
        if (frames > 5) {
          await fetch(location!, { method: 'DELETE' });
          pc.close();
          return { status: 201, frames, protocol };
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      pc.close();
      return { status: 201, frames: 0, protocol: 'none' };
    });
    assert.is(result.status, 201, JSON.stringify(result));
    assert.is(result.protocol, 'tcp', JSON.stringify(result));
    assert.ok((result.frames ?? 0) > 5, JSON.stringify(result));
  } finally {
    await page.close();
  }
});

t('eight WHIP offers at once for one channel: one goes live (201), the others are 409, and one room is left', async ({ api, owner }) => {
  const key = await channelWithKey(owner, 'racing');
  const routersBefore = (await api.sfu.pool.held()).routers;
  // a publisher's offer: the viewer's offer turned to sending, an SSRC per section
  let ssrc = 1000;
  const sendOffer = () => whepOffer().replace(/a=recvonly/g, 'a=sendonly').replace(/a=mid:(\d)/g, (m) => `${m}\r\na=ssrc:${ssrc++} cname:racer`);
  const replies = await Promise.all(
    Array.from({ length: 8 }, () => fetch(`${api.base}/whip/racing`, { method: 'POST', headers: { 'content-type': 'application/sdp', 'x-forwarded-for': '198.51.100.80', ...withKey(key) }, body: sendOffer() })),
  );
  const statuses = replies.map((r) => r.status).sort();
  assert.equal(statuses, [201, 409, 409, 409, 409, 409, 409, 409], JSON.stringify(statuses));
  assert.is((await api.sfu.pool.held()).routers, routersBefore + 1, 'one router opened for the channel');
  const location = replies.find((r) => r.status === 201)!.headers.get('location')!;
  const room = api.sfu.room('racing')!;
  assert.ok(room.publisherId);
  assert.is((await fetch(api.base + location, { method: 'DELETE', headers: withKey(key) })).status, 200);
  assert.is(api.sfu.room('racing'), undefined);
  assert.equal(await room.dump(), { transports: 0, producers: 0, consumers: 0 });
});

/** Two consecutive ports free for UDP and TCP on loopback (for a worker pool whose whole range they are). */
async function freePair(): Promise<number> {
  const free = (port: number) =>
    Promise.all([
      new Promise<boolean>((resolve) => {
        const s = createSocket('udp4');
        s.once('error', () => resolve(false));
        s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
      }),
      new Promise<boolean>((resolve) => {
        const s = createServer();
        s.once('error', () => resolve(false));
        s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
      }),
    ]).then((r) => r.every(Boolean));
  for (;;) {
    const port = 45_000 + 2 * Math.floor(Math.random() * 4_000);
    if ((await free(port)) && (await free(port + 1))) return port;
  }
}

t('out of RTP ports, plain transports (RTMP bridge, recorder) fail with 503 and Retry-After, and leave nothing', async () => {
  const log = createLogger('silent');
  const port = await freePair();
  // two workers whose WebRtcServers take the range's only two ports: nothing is left for plain transports
  const pool = await WorkerPool.create({ count: 2, port: 0, minPort: port, maxPort: port + 1, listenIp: '127.0.0.1', announcedIp: undefined, log });
  try {
    const home = await pool.createRouter();
    const room = new Room('c', 'no-ports', home, pool, { listenIp: '127.0.0.1', publishGraceMs: 0, viewersPerWorker: 10, maxNumberings: 1 }, log);
    const err = await room
      .publishPlain([{ kind: 'audio', codec: { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }, ssrc: 1111 }])
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AppError, String(err));
    assert.is((err as AppError).status, 503);
    assert.ok(((err as AppError).retryAfterSeconds ?? 0) >= 1, 'with Retry-After');
    assert.match((err as AppError).message, /no free ports/);
    assert.is(room.publisherId, undefined);
    assert.equal(await room.dump(), { transports: 0, producers: 0, consumers: 0 });
    room.close();
  } finally {
    pool.close();
  }
});

t.run();
