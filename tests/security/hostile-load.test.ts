// One hostile address against the SFU: 500 anonymous WHEP offers and 200 RTMP connections that send half a
// handshake or nothing. Every WHEP refusal is a 429 or 503 with Retry-After (no other 5xx); a real viewer and a
// real publisher (Chromium, from another address) still work meanwhile; the sessions the offers opened and never
// connected are dropped; and once the broadcasts end nothing is left on the workers. Bounded: ~40 s.
import * as assert from 'uvu/assert';
import { liveSuite } from '../helpers/live-suite.ts';
import { connect, type Socket } from 'node:net';
import { channelWithKey } from '../helpers/api.ts';
import { publish, unpublish, until, view, viewerStats } from '../helpers/webrtc.ts';
import { whepOffer } from '../helpers/whep-offer.ts';

const OFFERS = 500;
const RTMP_SOCKETS = 200;
const HOSTILE = '203.0.113.66'; // through the trusted loopback proxy, as Caddy would forward it

const t = liveSuite('hostile load', { owner: 'Target', env: { TRUSTED_PROXIES: 'loopback' } });

/** RTMP connections that stall: C0 and a third of C1 on odd ones, nothing at all on even ones. */
async function stallingRtmp(port: number, count: number): Promise<Socket[]> {
  const sockets = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      new Promise<Socket>((resolve) => {
        const s = connect(port, '127.0.0.1', () => {
          if (i % 2) s.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(512, 7)]));
          resolve(s);
        });
        s.on('error', () => resolve(s)); // refused or reset by a cap: that is the server's right
      }),
    ),
  );
  return sockets;
}

t('500 WHEP offers and 200 stalled RTMP connections from one address: refusals are 429/503 with Retry-After, a real viewer and publisher still work, nothing leaks', async ({ api, owner, browser }) => {
  const key = await channelWithKey(owner, 'target');
  const laterKey = await channelWithKey(owner, 'later');
  const pub = await browser.context.newPage();
  const viewer = await browser.context.newPage();
  const later = await browser.context.newPage();
  let rtmp: Socket[] = [];
  try {
    await pub.goto(api.base + '/');
    assert.is((await publish(pub, { slug: 'target', key })).status, 201);
    await until(async () => api.sfu.room('target')?.codecs.length ?? 0, (n) => n === 2, 10_000);

    rtmp = await stallingRtmp(api.sfu.rtmp!.port, RTMP_SOCKETS);
    const statuses = new Map<number, number>();
    let withoutRetryAfter = 0;
    const started = Date.now();
    for (let sent = 0; sent < OFFERS; sent += 25) {
      await Promise.all(
        Array.from({ length: 25 }, async () => {
          const res = await fetch(`${api.base}/whep/target`, { method: 'POST', headers: { 'content-type': 'application/sdp', 'x-forwarded-for': HOSTILE }, body: whepOffer() });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status !== 201 && !(Number(res.headers.get('retry-after')) >= 1)) withoutRetryAfter++;
          await res.body?.cancel();
        }),
      );
    }
    const seconds = (Date.now() - started) / 1000;
    const summary = JSON.stringify(Object.fromEntries(statuses));
    assert.ok([...statuses.keys()].every((s) => s === 201 || s === 429 || s === 503), `only 201, 429 and 503: ${summary}`);
    assert.ok((statuses.get(201) ?? 0) <= api.config.sfu.whepSessionsPerAddress, `at most WHEP_SESSIONS_PER_ADDRESS accepted: ${summary}`);
    assert.ok((statuses.get(429) ?? 0) + (statuses.get(503) ?? 0) >= OFFERS - api.config.sfu.whepSessionsPerAddress, summary);
    assert.is(withoutRetryAfter, 0, 'every refusal says when to retry');
    console.log(`  ${OFFERS} hostile offers in ${seconds.toFixed(1)} s: ${summary}`);

    // meanwhile, from another address: a viewer watches, a publisher goes live on another channel
    await viewer.goto(api.base + '/');
    const v = await view(viewer, 'target');
    assert.is(v.status, 201, v.body);
    const watching = await until(() => viewerStats(viewer), (s) => s.framesDecoded > 10, 10_000);
    assert.ok(watching.framesDecoded > 10, `the real viewer decodes: ${JSON.stringify(watching)}`);
    await later.goto(api.base + '/');
    assert.is((await publish(later, { slug: 'later', key: laterKey })).status, 201, 'a real publisher goes live');
    const flowing = await until(async () => (await api.sfu.room('later')?.producerStats()) ?? [], (s) => s.some((x) => x.kind === 'video' && x.packetCount > 20), 10_000);
    assert.ok(flowing.some((x) => x.kind === 'video' && x.packetCount > 20), 'and its media arrives');

    // the offers' sessions never connected: dropped after 15 s of silence, the real viewer stays
    const room = api.sfu.room('target')!;
    const left = await until(async () => room.viewerCount, (n) => n === 1, 25_000);
    assert.is(left, 1, 'only the real viewer is left');
    const still = await viewerStats(viewer);
    assert.is(still.state, 'connected');
  } finally {
    for (const s of rtmp) s.destroy();
    await unpublish(pub).catch(() => undefined);
    await unpublish(later).catch(() => undefined);
    for (const p of [pub, viewer, later]) await p.close();
  }
  assert.is(api.sfu.room('target'), undefined);
  assert.is(api.sfu.room('later'), undefined);
  const held = await until(() => api.sfu.pool.held(), (h) => h.routers === 0 && h.webRtcTransports === 0 && h.webRtcTransportObjects === 0, 3_000);
  assert.equal(held, { routers: 0, webRtcTransports: 0, webRtcTransportObjects: 0 }, 'no router or transport left on any worker, nor in their WebRtcServer objects here');
  assert.is((await fetch(api.base + '/healthz')).status, 200, 'the server is still up');
  const rtmpUp = await new Promise<boolean>((resolve) => {
    const s = connect(api.sfu.rtmp!.port, '127.0.0.1', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
  assert.ok(rtmpUp, 'and RTMP ingest still accepts connections');
});

t.run();
