// A mediasoup worker killed (OOM killer, a crash) during a broadcast: its rooms end the way any broadcast ends (row
// ended with the reason, channel.offline), the pool starts a replacement on the same WebRTC port, and the next
// broadcast goes live. Publishers send a crafted offer the SFU accepts without ever connecting (see back-to-back).
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { channelWithKey, startTestApi, type TestApi } from '../helpers/api.ts';
import { until, withKey } from '../helpers/webrtc.ts';
import { whepOffer } from '../helpers/whep-offer.ts';
import { liveSession } from '../../shared/db/index.ts';
import { WORKER_DIED } from '../../sfu/Sfu.ts';

const whipOffer = () => whepOffer().replace(/a=recvonly/g, 'a=sendonly').replace(/a=mid:(\w+)/g, (_m, mid) => `a=mid:${mid}\r\na=ssrc:${1000 + Number(mid)} cname:x`);

/** A base port whose next two ports are free over UDP and TCP (each worker's WebRtcServer takes RTC_PORT + i). */
async function freeRtcBase(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const tcp = createServer().once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => {
        const udp = createSocket('udp4').once('error', () => tcp.close(() => resolve(false)));
        udp.bind(port, '127.0.0.1', () => udp.close(() => tcp.close(() => resolve(true))));
      });
    });
  for (;;) {
    const base = 46_000 + 2 * Math.floor(Math.random() * 1500);
    if ((await free(base)) && (await free(base + 1))) return base;
  }
}

type Ctx = { api: TestApi; keys: Record<string, string> };
const t = suite<Ctx>('a mediasoup worker that dies');

t.before(async (ctx) => {
  ctx.api = await startTestApi({ SFU_WORKERS: '2', RTC_PORT: String(await freeRtcBase()), WHIP_AUTH_FAILURES_PER_MINUTE: '1000' });
  const owner = await ctx.api.client().signUp('Worker Killer');
  ctx.keys = { doomed: await channelWithKey(owner, 'doomed'), beside: await channelWithKey(owner, 'beside') };
});
t.after(async (ctx) => ctx.api?.stop());

const post = (api: TestApi, slug: string, key: string) =>
  fetch(`${api.base}/whip/${slug}`, { method: 'POST', headers: { ...withKey(key), 'content-type': 'application/sdp' }, body: whipOffer() });

t("kill -9 of a live room's worker closes the room with 'media worker died', ends its row, and the pool is whole again", async ({ api, keys }) => {
  const pool = api.sfu.pool;
  const portsBefore = await pool.ports();
  const pidsBefore = (await pool.usage()).map((u) => u.pid);
  assert.is(pidsBefore.length, 2);
  const offline: { slug: string; reason: string }[] = [];
  const off = api.deps.bus.subscribe('channel.offline', (e) => void offline.push({ slug: e.slug, reason: e.reason }));

  const res = await post(api, 'doomed', keys.doomed!);
  assert.is(res.status, 201, await res.clone().text());
  const room = api.sfu.room('doomed')!;
  const session = room.sessionId!;
  const victim = (await pool.usage()).find((u) => u.rooms > 0)!.pid;

  // the moment the pool hears of the death, a new broadcast must land on the surviving worker, not the dead one
  const beside = new Promise<Response>((resolve) => pool.once('worker-died', () => resolve(post(api, 'beside', keys.beside!))));
  process.kill(victim, 'SIGKILL');

  const besideRes = await beside;
  assert.is(besideRes.status, 201, `a broadcast started right after the death goes live: ${await besideRes.clone().text()}`);
  assert.ok(api.sfu.room('beside'), 'on the worker that is alive');

  await until(async () => room.isClosed, (x) => x, 5_000);
  assert.ok(room.isClosed, 'the room on the dead worker is closed');
  assert.is(room.endReason, WORKER_DIED);
  assert.is(api.sfu.room('doomed'), undefined);
  const row = await until(async () => (await api.deps.database.db.select().from(liveSession).where(eq(liveSession.id, session)))[0], (r) => !!r?.endedAt, 5_000);
  assert.ok(row?.endedAt, 'its live session row is ended');
  assert.is(row!.endReason, WORKER_DIED);
  assert.ok(offline.some((e) => e.slug === 'doomed' && e.reason === WORKER_DIED), `channel.offline with the reason: ${JSON.stringify(offline)}`);
  assert.ok(api.sfu.room('beside'), 'a room on the other worker is untouched');

  const pids = await until(async () => (await pool.usage()).map((u) => u.pid), (p) => p.length === 2 && !p.includes(victim), 10_000);
  assert.is(pids.length, 2, 'the pool has its full count again');
  assert.not.ok(pids.includes(victim), 'with a new process in place of the dead one');
  assert.ok(pids.some((p) => !pidsBefore.includes(p)));
  assert.equal(await pool.ports(), portsBefore, 'the replacement listens on the WebRTC port of the worker it replaces');

  const again = await post(api, 'doomed', keys.doomed!);
  assert.is(again.status, 201, `the channel goes live again: ${await again.clone().text()}`);
  assert.ok(api.sfu.room('doomed')?.sessionId && api.sfu.room('doomed')!.sessionId !== session, 'a new broadcast');
  for (const r of [again, besideRes]) assert.is((await fetch(api.base + r.headers.get('location')!, { method: 'DELETE', headers: withKey(r === again ? keys.doomed! : keys.beside!) })).status, 200);
  off();
});

t.run();
