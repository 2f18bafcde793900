// The recorder's RTP relay: packets come out in sequence order (a late one waits its turn, a gap is given up after a
// while), and what arrives while no FFmpeg listens is held and handed over in order once one does. Real UDP sockets
// on loopback; the recorded end-to-end effect is in pause.test.ts and the recording matrix.
import dgram from 'node:dgram';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RtpRelay, RtpReorder } from '../../recorder/rtp-relay.ts';

const t = suite('RTP relay: order and hold');

function rtp(seq: number, timestamp = seq * 3000): Buffer {
  const p = Buffer.alloc(12 + 4);
  p[0] = 0x80;
  p[1] = 96;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(timestamp >>> 0, 4);
  p.writeUInt32BE(0xabc, 8);
  return p;
}
const seqs = (ps: Buffer[]) => ps.map((p) => p.readUInt16BE(2));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t('a packet overtaken by later ones is put back in its place', () => {
  const out: Buffer[] = [];
  const order = new RtpReorder((p) => out.push(p), undefined, 200);
  for (const s of [10, 11, 13, 14, 12, 15]) order.push(rtp(s));
  assert.equal(seqs(out), [10, 11, 12, 13, 14, 15]);
  assert.equal(order.counts, { reordered: 1, lost: 0, late: 0 });
  order.close();
});

t('sequence numbers wrap; a duplicate is dropped', () => {
  const out: Buffer[] = [];
  const order = new RtpReorder((p) => out.push(p), undefined, 200);
  for (const s of [65534, 0, 65535, 1, 1, 65535]) order.push(rtp(s));
  assert.equal(seqs(out), [65534, 65535, 0, 1]);
  assert.is(order.counts.late, 2);
  order.close();
});

t('a gap nobody fills is given up after the wait; what came after it goes on, and the straggler is dropped', async () => {
  const out: Buffer[] = [];
  const order = new RtpReorder((p) => out.push(p), undefined, 100);
  for (const s of [1, 2, 5, 6]) order.push(rtp(s));
  assert.equal(seqs(out), [1, 2], 'packets after the gap wait');
  await sleep(160);
  assert.equal(seqs(out), [1, 2, 5, 6]);
  assert.is(order.counts.lost, 2);
  order.push(rtp(3));
  order.push(rtp(7));
  assert.equal(seqs(out), [1, 2, 5, 6, 7]);
  assert.is(order.counts.late, 1);
  order.close();
});

t('a jump far away is a new stream, not thousands of lost packets', () => {
  const out: Buffer[] = [];
  const order = new RtpReorder((p) => out.push(p), undefined, 100);
  for (const s of [100, 101, 40000, 40001]) order.push(rtp(s));
  assert.equal(seqs(out), [100, 101, 40000, 40001]);
  assert.is(order.counts.lost, 0);
  order.close();
});

async function receiver() {
  const socket = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', (m) => got.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { socket, got, port: socket.address().port };
}

async function sendAll(port: number, packets: Buffer[]) {
  const socket = dgram.createSocket('udp4');
  for (const p of packets) await new Promise<void>((r) => socket.send(p, port, '127.0.0.1', () => r()));
  socket.close();
}

/** A relay forwarding to a receiver standing in for FFmpeg, both closed after `body`. */
async function withRelay(body: (relay: RtpRelay, ffmpeg: Awaited<ReturnType<typeof receiver>>) => Promise<void>) {
  const relay = await RtpRelay.open('127.0.0.1');
  const ffmpeg = await receiver();
  try {
    relay.forwardTo(ffmpeg.port);
    relay.newStream(false);
    await body(relay, ffmpeg);
  } finally {
    relay.close();
    ffmpeg.socket.close();
  }
}

t('a new relay holds everything until release(), then hands it over in order ahead of what comes next', () =>
  withRelay(async (relay, ffmpeg) => {
    await sendAll(relay.port, Array.from({ length: 300 }, (_, i) => rtp(1000 + i)));
    await sleep(100);
    assert.is(ffmpeg.got.length, 0, 'nothing reaches a port no FFmpeg listens on yet');
    relay.release();
    await sendAll(relay.port, [rtp(1300), rtp(1301)]);
    await sleep(200);
    assert.equal(seqs(ffmpeg.got), Array.from({ length: 302 }, (_, i) => 1000 + i));
    // held again (FFmpeg stopped reading), released again: nothing lost between two FFmpegs
    relay.hold();
    await sendAll(relay.port, [rtp(1302), rtp(1303)]);
    await sleep(50);
    assert.is(ffmpeg.got.length, 302);
    relay.release();
    await sleep(50);
    assert.equal(seqs(ffmpeg.got.slice(-2)), [1302, 1303]);
    assert.equal(relay.counts, { packets: 304, reordered: 0, lost: 0, late: 0, overflow: 0 });
  }),
);

t('settle(): a packet waiting behind a gap is sent on at the end of the stream', () =>
  withRelay(async (relay, ffmpeg) => {
    relay.release();
    await sendAll(relay.port, [rtp(1), rtp(3)]);
    await sleep(50);
    assert.equal(seqs(ffmpeg.got), [1]);
    await relay.settle();
    await sleep(50);
    assert.equal(seqs(ffmpeg.got), [1, 3]);
  }),
);

t.run();
