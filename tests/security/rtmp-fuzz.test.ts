// Fuzzing RTMP ingest with mutated real FFmpeg sessions (tests/helpers/rtmp-fuzz.ts) against the RtmpServer of a real
// API, for GLINT_FUZZ_SECONDS (10 by default; bench/fuzz-rtmp.ts runs longer). Pass: nothing escapes a connection's
// error boundary, nothing is logged at error level, every connection and bridge FFmpeg is gone afterwards, memory is
// back near where it started, the live_session rows tell a consistent story, and a real publish still goes live.
// A failing run prints its seed: GLINT_FUZZ_SEED=<seed> replays the same cases.
import v8 from 'node:v8';
import vm from 'node:vm';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { asc, eq } from 'drizzle-orm';
import { liveSession } from '../../shared/db/index.ts';
import { runningBridges } from '../../sfu/rtmp/bridge.ts';
import { channelWithKey, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { catchEscapes } from '../helpers/api-on.ts';
import { capturingLogger, LEVEL, type LogLine } from '../helpers/log.ts';
import { startProcess } from '../helpers/process.ts';
import { captureFfmpeg, fuzz, replay, rng, serialize, replaceAmfString, withoutGoodbye, PLACEHOLDER_KEY, type Case, type Session } from '../helpers/rtmp-fuzz.ts';
import { until } from '../helpers/webrtc.ts';

const SECONDS = Number(process.env.GLINT_FUZZ_SECONDS ?? 10);
const SEED = Number(process.env.GLINT_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heap = () => {
  gc();
  gc();
  return process.memoryUsage();
};

type Ctx = { api: TestApi; owner: Client; port: number; lines: LogLine[]; sessions: Session[]; key: string; channelId: string };
const t = suite<Ctx>(`RTMP ingest fuzz (${SECONDS} s, seed ${SEED})`);

const { escaped } = catchEscapes();

t.before(async (ctx) => {
  const { log, lines } = capturingLogger();
  ctx.lines = lines;
  [ctx.sessions, ctx.api] = await Promise.all([
    Promise.all([
      captureFfmpeg('baseline', ['-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '30']),
      captureFfmpeg('x264 defaults', ['-g', '30']),
    ]),
    startTestApi(
      {
        // caps and budgets out of the way (their own tests are in rtmp.test.ts): the fuzz is after the parser
        RTMP_MAX_CONNECTIONS: '1000', RTMP_MAX_CONNECTIONS_PER_ADDRESS: '100', RTMP_KEY_FAILURES_PER_MINUTE: '10000',
        RTMP_HANDSHAKE_TIMEOUT_MS: '3000', PUBLISH_GRACE_MS: '1000', RECORDER_EMBEDDED: 'false',
      },
      { log },
    ),
  ]);
  ctx.owner = await ctx.api.client().signUp('Fuzz Owner');
  ctx.key = await channelWithKey(ctx.owner, 'fuzzed');
  ctx.channelId = (await ctx.api.client().get('/api/channels/fuzzed')).body.id;
  ctx.port = ctx.api.sfu.rtmp!.port;
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

const sessionRows = (api: TestApi, channelId: string) =>
  api.deps.database.db.select().from(liveSession).where(eq(liveSession.channelId, channelId)).orderBy(asc(liveSession.startedAt));

t('an unmutated FFmpeg session replayed with a valid key goes live (the fuzz reaches the probe and the bridge)', async ({ api, port, sessions, key }) => {
  const s = sessions[0]!;
  const messages = withoutGoodbye(s.messages).map((m) => (m.type === 20 ? { ...m, payload: replaceAmfString(m.payload, PLACEHOLDER_KEY, key) } : m));
  const c: Case = { name: 'valid', bytes: serialize(s, messages), live: true };
  const replaying = replay(port, '127.0.0.1', c, rng(1), 3000);
  const room = await until(async () => api.sfu.room('fuzzed'), (r) => !!r?.publisherId, 3000);
  assert.ok(room?.publisherId, 'live while the session is replayed');
  assert.is(await replaying, 'hung-up');
  await until(async () => runningBridges().length, (n) => n === 0, 5000);
});

t(`${SECONDS} s of mutated sessions: no escape, no error logged, every connection closed, memory back, sessions consistent`, async ({ api, port, lines, sessions, key, channelId }) => {
  const before = heap();
  const recent: string[] = [];
  const stats = await fuzz({ port, sessions, key, seconds: SECONDS, seed: SEED, onCase: (c) => void (recent.push(c.name), recent.length > 20 && recent.shift()) });
  assert.equal(escaped.map(String), [], `nothing escaped (seed ${SEED}; last cases: ${recent.join(' | ')})`);
  assert.is(await until(async () => api.sfu.rtmp!.server.size, (n) => n === 0, 8000), 0, 'every RTMP connection closed');
  assert.is(await until(async () => runningBridges().length, (n) => n === 0, 8000), 0, 'no bridge FFmpeg left');
  await until(async () => api.sfu.room('fuzzed'), (r) => !r, 5000);
  const after = heap();
  const count = (msg: string) => lines.filter((l) => l.msg === msg).length;
  const accepted = count('RTMP publisher accepted');
  const bridged = count('RTMP broadcast bridged');
  const grown = (after.heapUsed - before.heapUsed) / 2 ** 20;
  console.log(
    `  fuzz: ${stats.cases} cases in ${stats.seconds.toFixed(1)} s (${stats.perSecond.toFixed(0)}/s), ${stats.live} with a valid key, ${stats.closedByServer} closed by the server;` +
      ` ${accepted} publishes accepted, ${bridged} bridged;` +
      ` heap ${(before.heapUsed / 2 ** 20).toFixed(0)} → ${(after.heapUsed / 2 ** 20).toFixed(0)} MiB, RSS ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB`,
  );
  assert.ok(stats.cases > SECONDS * 5, `${stats.cases} cases`);
  assert.ok(bridged > 0, 'some mutated sessions went live: the fuzz reached the probe and the bridge');
  assert.ok(grown < 48, `heap grew by ${grown.toFixed(1)} MiB`);
  const bad = lines.filter((l) => l.level >= LEVEL.error || /unhandled/i.test(l.msg));
  assert.equal(bad.map((l) => `${l.msg}: ${l.err?.message ?? ''}`), [], 'nothing logged at error level');
  const rows = await sessionRows(api, channelId);
  assert.ok(rows.every((r) => r.endedAt && r.endedAt >= r.startedAt), 'every fuzzed broadcast ended');
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i]!.startedAt >= rows[i - 1]!.endedAt!, 'one broadcast at a time on the channel');
  assert.is(api.sfu.room('fuzzed'), undefined);
});

t('after the fuzz a real FFmpeg publish goes live, and ends when it stops', async ({ api, owner, port }) => {
  const key = await channelWithKey(owner, 'after-fuzz');
  const publisher = startProcess('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440',
    '-c:v', 'libx264', '-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/${key}`,
  ]);
  try {
    const room = await until(async () => api.sfu.room('after-fuzz'), (r) => !!r?.publisherId && r.codecs.length === 2, 10_000);
    assert.ok(room?.publisherId, `live: ${publisher.output()}`);
    await publisher.stop();
    const id = (await api.client().get('/api/channels/after-fuzz')).body.id;
    const [row] = await until(() => sessionRows(api, id), (r) => !!r[0]?.endedAt, 5000);
    assert.ok(row?.endedAt, 'the session ended');
    assert.is(row!.source, 'rtmp');
    assert.is(await until(async () => runningBridges().length, (n) => n === 0, 5000), 0);
  } finally {
    await publisher.stop();
  }
  assert.equal(escaped.map(String), []);
});

t.run();
