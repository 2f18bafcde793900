// The viewer farm's client (bench/farm-client.ts): its header-only counters on hand-made packets (gaps to NACK, a
// retransmission recovering one, wraps, duplicates, the receiver report's numbers, frames and freezes), then against
// a real SFU: a Chromium publisher (fake camera, VP8) and a few werift viewers that read SRTP headers without
// decrypting (and one that decrypts, werift's own path). They get media, lose (almost) nothing on loopback, report a
// time to first frame, their receiver reports reach the SFU's consumers, they share one router with each other as
// Chromium viewers would (Chromium's payload types), and stop() ends their WHEP sessions.
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RtpHeader, RtpPacket } from 'werift';
import { FarmClient, FREEZE_MS, readRtpHeader, StreamCounter } from '../../bench/farm-client.ts';
import { channelWithKey, startTestApi, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { publish, view } from '../helpers/webrtc.ts';

const counter = suite('farm client: header-only counters');

counter('readRtpHeader reads what werift wrote, and refuses what is not RTP version 2', () => {
  const wire = new RtpPacket(new RtpHeader({ payloadType: 96, marker: true, sequenceNumber: 65535, timestamp: 0xfffffff0, ssrc: 0x12345678 }), Buffer.alloc(20)).serialize();
  assert.equal(readRtpHeader(wire), { payloadType: 96, marker: true, seq: 65535, timestamp: 0xfffffff0, ssrc: 0x12345678 });
  assert.is(readRtpHeader(wire.subarray(0, 11)), undefined);
  assert.is(readRtpHeader(Buffer.from([0x40, ...wire.subarray(1)])), undefined);
});

counter('a gap is NACKed once and counted lost until a retransmission or a late original fills it, across a wrap', () => {
  const c = new StreamCounter(90_000);
  assert.equal(c.add(65534, 1000, false, 0), []);
  assert.equal(c.add(65535, 1000, true, 1), []);
  assert.equal(c.add(3, 4000, true, 34), [0, 1, 2], 'the numbers skipped over the wrap');
  assert.is(c.expected, 6);
  assert.is(c.packets, 3);
  c.recover(1);
  c.recover(1); // a second retransmission of the same packet
  assert.is(c.packets, 4);
  assert.is(c.recovered, 1);
  assert.equal(c.add(2, 4000, false, 40), [], 'a late original');
  assert.is(c.packets, 5);
  assert.is(c.recovered, 1, 'a late original is not a recovery');
  assert.equal(c.add(3, 4000, true, 41), [], 'a duplicate');
  assert.is(c.packets, 5, 'a duplicate is not counted');
  c.recover(3); // a retransmission of what came anyway
  assert.is(c.recovered, 1);
  assert.is(c.frames, 2, 'packets with the marker bit, duplicates not counted');
  c.senderReport(0x0001_2345_6789_abcdn, 1000);
  const rr = c.report(0xabc, 1500);
  assert.is(rr.lsr, 0x2345_6789, 'LSR: the middle 32 bits of the sender report\'s NTP time');
  assert.is(rr.dlsr, 32768, 'DLSR: half a second in 1/65536 s');
  assert.is(rr.ssrc, 0xabc);
  assert.is(rr.highestSequence, 0x10003, 'the extended highest sequence number counts the wrap');
  assert.is(rr.packetsLost, 1, 'sequence number 0 never came');
  assert.is(rr.fractionLost, Math.floor(256 / 6));
  c.add(4, 7000, true, 68);
  assert.is(c.report(0xabc, 2000).fractionLost, 0, 'the fraction is of the packets since the previous report');
});

counter('a long gap is counted lost but not NACKed packet by packet', () => {
  const c = new StreamCounter(90_000);
  c.add(100, 0, true, 0);
  assert.equal(c.add(1100, 3000, true, 10), []);
  assert.is(c.expected - c.packets, 999);
});

counter('no new timestamp for FREEZE_MS is a freeze, one still going on counts too', () => {
  const c = new StreamCounter(90_000);
  c.add(1, 0, true, 0);
  c.add(2, 3000, true, 33);
  c.add(3, 3000, true, 33 + FREEZE_MS + 100); // same frame's timestamp: not a new frame
  assert.is(c.freezes, 0);
  c.add(4, 6000, true, 33 + FREEZE_MS + 200);
  assert.is(c.freezes, 1);
  assert.is(c.freezesAt(33 + FREEZE_MS + 200 + FREEZE_MS), 2);
});

counter.run();

type Ctx = { api: TestApi; browser: Browser; consumers: ms.Consumer[] };
const t = suite<Ctx>('farm client');

t.before(async (ctx) => {
  // the SFU runs in this process: its consumers are seen as mediasoup makes them, to read what they were told
  ctx.consumers = [];
  mediasoup.observer.on('newworker', (w) =>
    w.observer.on('newrouter', (r) => r.observer.on('newtransport', (tr) => tr.observer.on('newconsumer', (c) => ctx.consumers.push(c)))),
  );
  ctx.api = await startTestApi();
  ctx.browser = await launchBrowser({ fakeMedia: true });
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t('three farm clients receive the broadcast with ~0 loss and a TTFF, on the router a Chromium viewer uses, and stop() ends their sessions', async ({ api, browser, consumers }) => {
  const owner = await api.client().signUp('Farm');
  const key = await channelWithKey(owner, 'farm');
  const pub = await browser.context.newPage();
  await pub.goto(api.base + '/healthz');
  const published = await publish(pub, { slug: 'farm', key, codec: 'VP8' });
  assert.is(published.status, 201, published.body);
  const room = api.sfu.room('farm')!;

  // two read headers only, one decrypts (werift's own receive path): the counters agree either way
  const clients = [false, false, true].map((decrypt) => new FarmClient(api.base, 'farm', { decrypt }));
  try {
    await Promise.all(clients.map((c) => c.start()));
    assert.is(room.viewerCount, 3);
    // Chromium numbers codecs unlike the room's router: all three sit on branch routers of one numbering (one per
    // worker they are seated on), and a Chromium page joins that numbering
    const numberings = () => new Set(room.placement().branches.map((b) => b.numbering)).size;
    assert.is(numberings(), 1, 'the farm clients share one numbering');
    const page = await browser.context.newPage();
    await page.goto(api.base + '/healthz');
    const chromium = await view(page, 'farm');
    assert.is(chromium.status, 201);
    assert.is(numberings(), 1, 'a Chromium viewer uses the numbering the farm clients use');
    await (await fetch(new URL(chromium.location!, api.base), { method: 'DELETE' })).body?.cancel();
    await page.close();

    for (let i = 0; i < 40 && clients.some((c) => c.stats().videoPackets < 100); i++) await sleep(250);
    for (const [i, c] of clients.entries()) {
      const s = c.stats();
      assert.ok(s.videoPackets >= 100, `client ${i} received ${s.videoPackets} video packets`);
      assert.ok(s.audioPackets > 0, `client ${i} received audio`);
      assert.ok(s.ttffMs !== undefined && s.ttffMs > 0, `client ${i} has a TTFF (${s.ttffMs})`);
      const lost = Math.max(0, s.videoExpected - s.videoPackets);
      assert.ok(lost / s.videoExpected < 0.02, `client ${i} lost ${lost} of ${s.videoExpected}`);
      assert.ok(s.bytes > s.videoPackets * 12, 'bytes count headers and payloads');
      assert.ok(s.videoFrames > 0 && s.videoFrames < s.videoPackets, `client ${i} counted ${s.videoFrames} frames`);
      if (i < 2) assert.ok(s.reports >= 1, `client ${i} sent ${s.reports} receiver reports`);
    }
    // the SFU's consumers heard the clients' receiver reports: a round-trip time needs one answering a sender report
    // (LSR/DLSR), which the header-only clients read from the SFU's RTCP as werift's own path does
    const video = consumers.filter((c) => c.kind === 'video' && !c.closed);
    const rtts = await Promise.all(video.map(async (c) => (await c.getStats()).find((x) => x.type === 'outbound-rtp')?.roundTripTime));
    assert.ok(rtts.filter((r) => r !== undefined && r > 0).length >= 3, `round-trip times the SFU's video consumers measured: ${rtts.join(', ')}`);
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
  }
  for (let i = 0; i < 20 && room.viewerCount > 0; i++) await sleep(100);
  assert.is(room.viewerCount, 0, 'DELETE ended every farm session');
});

t.run();
