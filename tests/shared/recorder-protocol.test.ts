// shared/recorder-protocol.ts over the in-process bus: a request gets its own reply (not another's), its error, or a
// timeout; answer() replies to each request with its handler's result or error.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryBus } from '../../shared/bus.ts';
import { answer, request } from '../../shared/recorder-protocol.ts';

const t = suite('recorder protocol');
const targets = { audio: { ip: '127.0.0.1', port: 5000, rtcpPort: 5001 }, video: undefined };
const track = { kind: 'audio' as const, mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: {}, ssrc: 1 };

t('request() resolves with the reply carrying its request id, and answer() gives it', async () => {
  const bus = new MemoryBus();
  const seen: string[] = [];
  const off = answer(bus, 'recorder.attach', async ({ sessionId }) => {
    seen.push(sessionId);
    return { tracks: sessionId === 'a' ? [track] : [] };
  }, { tracks: [] });
  const [a, b] = await Promise.all([request(bus, 'recorder.attach', { sessionId: 'a', targets }), request(bus, 'recorder.attach', { sessionId: 'b', targets })]);
  assert.equal(a.tracks, [track]);
  assert.equal(b.tracks, [], 'each request its own reply');
  assert.equal(seen.sort(), ['a', 'b']);
  off();
  await bus.close();
});

t('a handler that throws is the request\'s rejection, with its message', async () => {
  const bus = new MemoryBus();
  answer(bus, 'recorder.detach', async () => {
    throw new Error('that broadcast is not live here');
  }, {});
  await request(bus, 'recorder.detach', { sessionId: 'x' }).then(
    () => assert.unreachable('resolved'),
    (err: Error) => assert.match(err.message, /not live here/),
  );
  await bus.close();
});

t('no answer: the request rejects after its timeout', async () => {
  const bus = new MemoryBus();
  const t0 = Date.now();
  await request(bus, 'recorder.attach', { sessionId: 'x', targets }, 150).then(
    () => assert.unreachable('resolved'),
    (err: Error) => assert.match(err.message, /did not answer the attach request/),
  );
  assert.ok(Date.now() - t0 >= 140, 'not before its timeout (timers may fire a millisecond early)');
  await bus.close();
});

t.run();
