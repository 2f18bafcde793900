// RTMP ingest against hostile clients: a raw TCP client speaks just enough RTMP to reach each parser, bound and
// callback, and every malformed message must close that one connection while the process (API, chat, SFU) carries
// on. Each test connects from its own loopback address (127.0.0.x), so per-address caps and budgets do not mix.
import net from 'node:net';
import { once } from 'node:events';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { channelWithKey, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { catchEscapes } from '../helpers/api-on.ts';
import { capturingLogger, LEVEL, type LogLine } from '../helpers/log.ts';
import { RTMP, RtmpTestClient, chunks, command, connectCommand, header0, publishCommands } from '../helpers/rtmp.ts';
import { until } from '../helpers/webrtc.ts';
import { runningBridges } from '../../sfu/rtmp/bridge.ts';
import { captureFfmpeg, replaceAmfString, serialize, withoutGoodbye, PLACEHOLDER_KEY } from '../helpers/rtmp-fuzz.ts';

type Ctx = { api: TestApi; owner: Client; port: number; lines: LogLine[] };
const t = suite<Ctx>('RTMP ingest: hostile clients');

// a crash here would take the test process with it; recorded instead, so that the test says which input did it
const { escaped } = catchEscapes();

t.before(async (ctx) => {
  const { log, lines } = capturingLogger();
  ctx.lines = lines;
  ctx.api = await startTestApi(
    { RTMP_MAX_CONNECTIONS_PER_ADDRESS: '4', RTMP_MAX_CONNECTIONS: '10', RTMP_KEY_FAILURES_PER_MINUTE: '3', RTMP_HANDSHAKE_TIMEOUT_MS: '1500' },
    { log },
  );
  ctx.owner = await ctx.api.client().signUp('Rtmp Owner');
  ctx.port = ctx.api.sfu.rtmp!.port;
});
t.after.each(async ({ api }) => {
  await until(async () => api.sfu.rtmp!.server.size ?? 0, (n) => n === 0, 5000);
});

/** A test that also fails when anything escaped the connections' error boundaries while it ran. */
const test = (name: string, fn: (ctx: Ctx) => Promise<void>) =>
  t(name, async (ctx) => {
    escaped.length = 0;
    await fn(ctx);
    assert.equal(escaped.map(String), [], 'no exception or rejection escaped');
  });
t.after(async (ctx) => {
  await ctx.api?.stop();
});

const alive = async (api: TestApi) => (await fetch(api.base + '/healthz')).status === 200;

async function open(port: number, from: string): Promise<RtmpTestClient> {
  const c = new RtmpTestClient(port, from);
  await c.handshake();
  return c;
}

/** connect, createStream, publish with `key`: resolves once the server said NetStream.Publish.Start. */
async function publisher(port: number, from: string, key: string): Promise<RtmpTestClient> {
  const c = await open(port, from);
  c.write(publishCommands(port, key));
  assert.ok(await c.saw('NetStream.Publish.Start'), `publish accepted: ${c.text.slice(-300)}`);
  return c;
}

const amfString = (s: string) => Buffer.concat([Buffer.from([0x02, s.length >> 8, s.length & 0xff]), Buffer.from(s)]);
const amfNumber = (n: number) => {
  const b = Buffer.alloc(9);
  b.writeDoubleBE(n, 1);
  return b;
};
const connectWith = (cmdObj: Buffer) => chunks({ cid: 3, type: RTMP.INVOKE, payload: Buffer.concat([amfString('connect'), amfNumber(1), cmdObj]) });

test('a connect command without tcUrl closes that connection; the process and other RTMP clients carry on', async ({ api, port }) => {
  const bystander = await open(port, '127.0.0.2');
  const c = await open(port, '127.0.0.2');
  c.write(command({ cmd: 'connect', transId: 1, cmdObj: { app: 'live', type: 'nonprivate' } }));
  assert.ok(await c.closedWithin(3000), 'the connection is closed');
  assert.ok(await alive(api), 'the API still answers');
  bystander.write(connectCommand(port));
  assert.ok(await bystander.saw('NetConnection.Connect.Success'), 'another RTMP client still connects');
  bystander.destroy();
});

test('a connect whose command object is not an object, or whose tcUrl is not a URL, closes that connection', async ({ api, port }) => {
  for (const cmdObj of [null, 'live', 7, { app: 'live', tcUrl: 'not a url' }, { app: 'live', tcUrl: 12 }, { tcUrl: 'rtmp://127.0.0.1/live' }]) {
    const c = await open(port, '127.0.0.3');
    c.write(command({ cmd: 'connect', transId: 1, cmdObj }));
    assert.ok(await c.closedWithin(3000), `closed after connect with ${JSON.stringify(cmdObj)}`);
  }
  assert.ok(await alive(api));
});

test('a publish before connect closes the connection; nothing is logged at error level', async ({ api, owner, port, lines }) => {
  const key = await channelWithKey(owner, 'rtmp-no-connect');
  const errors = () => lines.filter((l) => l.level >= LEVEL.error).length;
  const before = errors();
  const c = await open(port, '127.0.0.20');
  c.write(command({ cmd: 'publish', transId: 3, cmdObj: null, streamName: key, type: 'live' }, 1));
  assert.ok(await c.closedWithin(3000), 'closed');
  assert.is(errors(), before);
  assert.is(api.sfu.room('rtmp-no-connect'), undefined);
});

test('messages announced at 16 MiB before a publish is accepted close the connection before anything is allocated', async ({ api, port }) => {
  const before = process.memoryUsage().rss;
  const c = await open(port, '127.0.0.4');
  // twelve bytes per chunk stream, each asking for a 16 MiB buffer
  c.write(Buffer.concat(Array.from({ length: 40 }, (_, i) => header0(3 + i, RTMP.VIDEO, 0xffffff, 1))));
  assert.ok(await c.closedWithin(3000), 'closed');
  const grown = (process.memoryUsage().rss - before) / 2 ** 20;
  assert.ok(grown < 64, `resident memory grew by ${grown.toFixed(0)} MiB`);
  const big = await open(port, '127.0.0.4');
  big.write(header0(3, RTMP.INVOKE, 64 * 1024 + 1));
  assert.ok(await big.closedWithin(3000), 'a command over 64 KiB closes the connection');
  assert.ok(await alive(api));
});

test('once a publish is accepted, a 1 MiB frame is taken and one over RTMP_MAX_MESSAGE_BYTES closes the connection', async ({ owner, port, lines }) => {
  const key = await channelWithKey(owner, 'rtmp-big-frames');
  const c = await publisher(port, '127.0.0.19', key);
  const frame = Buffer.concat([Buffer.from([0x27, 0x01, 0, 0, 0]), Buffer.alloc(1 << 20)]); // a 1 MiB inter frame
  // at once, before the probe's time is up: the reason it closes says which frame it was
  c.write(Buffer.concat([chunks({ cid: 6, type: RTMP.VIDEO, streamId: 1, payload: frame }), header0(6, RTMP.VIDEO, (8 << 20) + 1, 1), Buffer.from([0x27])]));
  assert.ok(await c.closedWithin(3000), 'closed');
  const reasons = lines.filter((l) => l.msg === 'RTMP connection closing' && l.channel === 'rtmp-big-frames').map((l) => l.reason);
  assert.equal(reasons, ['a 8388609-byte audio or video message (at most 8388608)']);
});

test('a publisher starting 8 MiB frames on three chunk streams at once is closed before the third is allocated', async ({ owner, port, lines }) => {
  const key = await channelWithKey(owner, 'rtmp-many-big');
  const c = await publisher(port, '127.0.0.21', key);
  const start = (cid: number) => Buffer.concat([header0(cid, RTMP.VIDEO, 8 << 20, 1), Buffer.from([0x27]), Buffer.alloc(127)]);
  c.write(Buffer.concat([start(6), start(7), start(8), Buffer.from([0xc8])]));
  assert.ok(await c.closedWithin(3000), 'closed');
  const reasons = lines.filter((l) => l.msg === 'RTMP connection closing' && l.channel === 'rtmp-many-big').map((l) => String(l.reason));
  assert.equal(reasons.length, 1);
  assert.match(reasons[0]!, /bytes of message buffers \(at most \d+\)/);
});

test('more than 16 chunk streams on one connection close it', async ({ port }) => {
  const c = await open(port, '127.0.0.5');
  const ping = Buffer.from([0, 6, 0, 0, 0, 0]); // user control messages: node-media-server ignores them
  c.write(Buffer.concat(Array.from({ length: 15 }, (_, i) => chunks({ cid: 3 + i, type: 4, payload: ping }))));
  assert.not.ok(await c.closedWithin(500), '15 chunk streams are fine');
  c.write(Buffer.concat([chunks({ cid: 40, type: 4, payload: ping }), chunks({ cid: 41, type: 4, payload: ping })]));
  assert.ok(await c.closedWithin(3000), 'the 17th closes the connection');
});

test('SetChunkSize 0, or larger than a message can be, closes the connection instead of stalling the parser', async ({ port }) => {
  for (const size of [0, 0x1000000]) {
    const c = await open(port, '127.0.0.6');
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(size);
    c.write(Buffer.concat([chunks({ cid: 2, type: RTMP.SET_CHUNK_SIZE, payload }), connectCommand(port)]));
    assert.ok(await c.closedWithin(1000), `closed after SetChunkSize ${size}`);
  }
  const short = await open(port, '127.0.0.6');
  short.write(chunks({ cid: 2, type: RTMP.SET_CHUNK_SIZE, payload: Buffer.from([0, 1]) }));
  assert.ok(await short.closedWithin(1000), 'a 2-byte SetChunkSize closes the connection');
});

test('AMF0 nested 10,000 deep, of an unknown type, or a strict array claiming 4 billion elements closes the connection', async ({ api, port }) => {
  const deep = Buffer.concat([...Array.from({ length: 10_000 }, () => Buffer.from([0x03, 0x00, 0x01, 0x61])), Buffer.from([0x05])]);
  const strict = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x05]);
  const cases = { deep, 'type 0x11 (AMF3)': Buffer.from([0x11, 0x00]), strict, truncated: Buffer.from([0x03, 0x00, 0x05, 0x74, 0x63]) };
  for (const [name, obj] of Object.entries(cases)) {
    const c = await open(port, '127.0.0.7');
    c.write(connectWith(obj));
    assert.ok(await c.closedWithin(3000), `${name}: closed`);
  }
  assert.ok(await alive(api));
});

test('a chunk stream that changes its message length in the middle of a message closes the connection', async ({ port }) => {
  const c = await open(port, '127.0.0.8');
  const first = Buffer.concat([header0(3, RTMP.INVOKE, 200), Buffer.alloc(128, 0x05)]);
  // a type 1 header (new length and type) where a type 3 continuation belongs
  const type1 = Buffer.from([0x43, 0, 0, 0, 0xff, 0xff, 0xff, RTMP.VIDEO]);
  c.write(Buffer.concat([first, type1, Buffer.alloc(64)]));
  assert.ok(await c.closedWithin(3000), 'closed');
});

test('onMetaData node-media-server cannot decode closes that publisher\'s connection, not the process', async ({ api, owner, port }) => {
  const key = await channelWithKey(owner, 'rtmp-bad-metadata');
  const c = await publisher(port, '127.0.0.9', key);
  // `@setDataFrame onMetaData {videodatarate: <3 of a number's 8 bytes>}`
  const meta = Buffer.concat([amfString('@setDataFrame'), amfString('onMetaData'), Buffer.from([0x08, 0, 0, 0, 1, 0x00, 13]), Buffer.from('videodatarate'), Buffer.from([0x00, 0x40, 0x9f, 0x40])]);
  const keyframe = Buffer.from([0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65]);
  c.write(Buffer.concat([chunks({ cid: 6, type: RTMP.DATA, streamId: 1, payload: meta }), ...Array.from({ length: 12 }, (_, i) => chunks({ cid: 5, type: RTMP.VIDEO, streamId: 1, timestamp: i * 33, payload: keyframe }))]));
  assert.ok(await c.closedWithin(5000), 'closed');
  assert.ok(await alive(api));
  assert.is(api.sfu.room('rtmp-bad-metadata')?.publisherId, undefined, 'not live');
});

/** An H.264 publish sent in one go, without waiting for answers: publish, decoder configuration (Constrained
 * Baseline 3.1), a dozen keyframes. The frames are not real H.264 (the bridge FFmpeg gives up on them later). */
function pipelinedPublish(port: number, key: string): Buffer {
  const config = Buffer.from([0x17, 0x00, 0, 0, 0, 0x01, 0x42, 0xc0, 0x1f, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x42, 0xc0, 0x1f, 0x01, 0x00, 0x02, 0x68, 0xce]);
  const keyframe = Buffer.from([0x17, 0x01, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88]);
  return Buffer.concat([
    publishCommands(port, key),
    chunks({ cid: 6, type: RTMP.VIDEO, streamId: 1, payload: config }),
    ...Array.from({ length: 12 }, (_, i) => chunks({ cid: 6, type: RTMP.VIDEO, streamId: 1, timestamp: i * 33, payload: keyframe })),
  ]);
}

test('media sent right behind the publish, before its answer, keeps its decoder configuration', async ({ api, owner, port }) => {
  const key = await channelWithKey(owner, 'rtmp-pipelined');
  const c = await open(port, '127.0.0.15');
  c.write(pipelinedPublish(port, key));
  const room = await until(async () => api.sfu.room('rtmp-pipelined'), (r) => !!r?.ingest, 6000);
  assert.equal(room?.ingest, { source: 'rtmp', video: 'copy' }, 'copied: the configuration sent while the key was checked was kept');
  c.destroy();
  room?.close('test over');
});

test('two publishers with one key at once: one goes live, the other is refused as already live, nothing fails', async ({ api, owner, port, lines }) => {
  const key = await channelWithKey(owner, 'rtmp-raced');
  const a = await open(port, '127.0.0.16');
  const b = await open(port, '127.0.0.17');
  const errorsBefore = lines.filter((l) => l.level >= LEVEL.error).length;
  a.write(pipelinedPublish(port, key));
  b.write(pipelinedPublish(port, key));
  await until(async () => api.sfu.room('rtmp-raced'), (r) => !!r?.publisherId, 6000);
  const started = await Promise.all([a.saw('NetStream.Publish.Start', 3000), b.saw('NetStream.Publish.Start', 1000)]);
  assert.equal(started.filter(Boolean).length, 1, `one publish accepted: ${started}`);
  const loser = started[0] ? b : a;
  assert.match(loser.text, 'already live from another session');
  assert.equal(lines.filter((l) => l.level >= LEVEL.error).slice(errorsBefore).map((l) => l.msg), [], 'nothing logged at error level');
  a.destroy();
  b.destroy();
  api.sfu.room('rtmp-raced')?.close('test over');
});

test('a publisher sending faster than the bridge FFmpeg reads is not read ahead of it (backpressure, not buffering)', async ({ api, owner }) => {
  const key = await channelWithKey(owner, 'rtmp-flood');
  const session = await captureFfmpeg('baseline', ['-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '30']);
  const messages = withoutGoodbye(session.messages).map((m) => (m.type === RTMP.INVOKE ? { ...m, payload: replaceAmfString(m.payload, PLACEHOLDER_KEY, key) } : m));
  const chunkSize = messages.find((m) => m.type === RTMP.SET_CHUNK_SIZE)!.payload.readUInt32BE(0);
  const media = messages.filter((m) => m.type === RTMP.AUDIO || m.type === RTMP.VIDEO);
  const socket = net.connect({ port: api.sfu.rtmp!.port, host: '127.0.0.1', localAddress: '127.0.0.18' });
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  socket.write(serialize(session, messages));
  const room = await until(async () => api.sfu.room('rtmp-flood'), (r) => !!r?.publisherId, 6000);
  assert.ok(room?.publisherId, 'live');
  const [bridge] = await until(async () => runningBridges(), (p) => p.length === 1, 3000);
  process.kill(bridge!, 'SIGSTOP'); // FFmpeg reads nothing more
  try {
    let sent = 0;
    const deadline = Date.now() + 4000;
    for (let loop = 1; Date.now() < deadline && sent < 96 << 20; loop++) {
      // the session's media again and again, two seconds later each time
      const buf = serialize(session, media.map((m) => ({ ...m, timestamp: m.timestamp + loop * 2000 })), { handshake: false, chunkSize });
      sent += buf.length;
      if (!socket.write(buf)) await Promise.race([once(socket, 'drain'), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
    }
    const accepted = sent - socket.writableLength;
    assert.ok(accepted < 40 << 20, `${(accepted / 2 ** 20).toFixed(1)} MiB taken from the publisher while FFmpeg read nothing`);
  } finally {
    process.kill(bridge!, 'SIGCONT');
    socket.destroy();
  }
  room?.close('test over');
});

test('a publisher accepted that then sends nothing is cut off when the probe time is up, not held until idle', async ({ owner, port }) => {
  const key = await channelWithKey(owner, 'rtmp-silent');
  const c = await publisher(port, '127.0.0.10', key);
  const started = Date.now();
  assert.ok(await c.closedWithin(6000), 'closed');
  assert.ok(Date.now() - started < 5000, `closed after ${Date.now() - started} ms`);
});

test('a client trickling its handshake a byte at a time, or connecting and never publishing, is cut off at RTMP_HANDSHAKE_TIMEOUT_MS', async ({ port }) => {
  const trickler = new RtmpTestClient(port, '127.0.0.11');
  await trickler.connected();
  const started = Date.now();
  const drip = setInterval(() => trickler.write(Buffer.from([3])), 300);
  const idler = await open(port, '127.0.0.11');
  idler.write(connectCommand(port));
  try {
    assert.ok(await trickler.closedWithin(5000), 'the trickling client is closed');
    assert.ok(Date.now() - started < 4000, `after ${Date.now() - started} ms (deadline 1.5 s; the idle timeout alone never fires)`);
    assert.ok(await idler.closedWithin(3000), 'the client that connected and waits is closed');
  } finally {
    clearInterval(drip);
  }
});

test('connections past RTMP_MAX_CONNECTIONS_PER_ADDRESS and RTMP_MAX_CONNECTIONS are closed at accept, logged within a budget', async ({ api, port, lines }) => {
  const logged = () => lines.filter((l) => l.msg === 'RTMP connection refused').length;
  const before = logged();
  const held = await Promise.all(Array.from({ length: 4 }, () => open(port, '127.0.0.12')));
  const extra = new RtmpTestClient(port, '127.0.0.12');
  assert.ok(await extra.closedWithin(2000), 'the fifth connection from one address is closed');
  assert.ok(held.every((c) => !c.isClosed), 'the four it holds stay open');
  const others = await Promise.all(Array.from({ length: 6 }, (_, i) => open(port, `127.0.1.${1 + (i % 3)}`)));
  assert.is(api.sfu.rtmp!.server.size, 10);
  const stranger = new RtmpTestClient(port, '127.0.2.1');
  assert.ok(await stranger.closedWithin(2000), 'past the total, anyone is closed');
  // a flood of refusals logs a few lines, not one each
  const flood = Array.from({ length: 40 }, () => new RtmpTestClient(port, '127.0.0.12'));
  await Promise.all(flood.map((c) => c.closedWithin(3000)));
  const refusals = logged() - before;
  assert.ok(refusals >= 1 && refusals <= 5, `${refusals} log lines for 42 refusals`);
  assert.ok(lines.every((l) => l.level < LEVEL.error), 'nothing logged at error level');
  for (const c of [...held, ...others]) c.destroy();
  await until(async () => api.sfu.rtmp!.server.size, (n) => n === 0, 3000);
  const again = await open(port, '127.0.0.12');
  assert.not.ok(again.isClosed, 'a released slot can be taken again');
  again.destroy();
});

test('wrong stream keys are rate-limited per address: past RTMP_KEY_FAILURES_PER_MINUTE even the right key is refused from it, not from others', async ({ api, owner, port }) => {
  const key = await channelWithKey(owner, 'rtmp-guessed');
  for (let i = 0; i < 4; i++) {
    const c = await open(port, '127.0.0.13');
    c.write(publishCommands(port, `glint_guess${i}`));
    assert.ok(await c.saw('NetStream.Publish.BadName'), 'refused');
    assert.match(c.text, 'That stream key is not valid');
    c.destroy();
  }
  const right = await open(port, '127.0.0.13');
  right.write(publishCommands(port, key));
  assert.ok(await right.saw('NetStream.Publish.BadName'), 'the right key is refused too');
  assert.match(right.text, /Too many wrong stream keys from 127\.0\.0\.13; try again in \d+ s/);
  right.destroy();
  assert.is(api.sfu.room('rtmp-guessed')?.publisherId, undefined);
  const elsewhere = await publisher(port, '127.0.0.14', key);
  elsewhere.destroy();
});

t.run();
