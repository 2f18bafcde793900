// Long fuzz run of RTMP ingest: the cases of tests/security/rtmp-fuzz.test.ts (mutated FFmpeg sessions, see
// tests/helpers/rtmp-fuzz.ts) against a real API in this process, for as long as asked. Reports cases per second,
// outcomes, what was logged per level, and resident memory before and after; exits 1 if anything escaped a
// connection's error boundary, was logged at error level, or was left open.
// Run: npm run bench:fuzz-rtmp -- --seconds 300 [--seed 42] [--workers 6]
import v8 from 'node:v8';
import vm from 'node:vm';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { runningBridges } from '../sfu/rtmp/bridge.ts';
import { channelWithKey, startTestApi } from '../tests/helpers/api.ts';
import { captureFfmpeg, fuzz } from '../tests/helpers/rtmp-fuzz.ts';
import { until } from '../tests/helpers/webrtc.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '300' }, seed: { type: 'string' }, workers: { type: 'string', default: '6' } } });
const SECONDS = Number(values.seconds);
const SEED = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const memory = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 };
};

const escaped: unknown[] = [];
process.on('unhandledRejection', (err) => escaped.push(err));
process.on('uncaughtException', (err) => escaped.push(err));

// a long run logs a lot: count the lines per level and message, keep the error-level ones
const levels: Record<number, number> = {};
const messages = new Map<string, number>();
const errors: string[] = [];
const log = pino({ level: 'info', base: null }, {
  write: (s: string) => {
    const l = JSON.parse(s) as { level: number; msg: string; err?: { message: string } };
    levels[l.level] = (levels[l.level] ?? 0) + 1;
    messages.set(l.msg, (messages.get(l.msg) ?? 0) + 1);
    if (l.level >= 50) errors.push(`${l.msg}: ${l.err?.message ?? ''}`);
  },
});

const sessions = await Promise.all([
  captureFfmpeg('baseline', ['-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '30']),
  captureFfmpeg('x264 defaults', ['-g', '30']),
]);
const api = await startTestApi(
  {
    RTMP_MAX_CONNECTIONS: '1000', RTMP_MAX_CONNECTIONS_PER_ADDRESS: '100', RTMP_KEY_FAILURES_PER_MINUTE: '10000',
    RTMP_HANDSHAKE_TIMEOUT_MS: '3000', PUBLISH_GRACE_MS: '1000', RECORDER_EMBEDDED: 'false',
  },
  { log },
);
const owner = await api.client().signUp('Fuzz Owner');
const key = await channelWithKey(owner, 'fuzzed');
const port = api.sfu.rtmp!.port;

const before = memory();
console.log(`fuzzing RTMP ingest for ${SECONDS} s, seed ${SEED}, ${values.workers} clients; RSS ${before.rss.toFixed(0)} MiB, heap ${before.heap.toFixed(0)} MiB`);
const stats = await fuzz({ port, sessions, key, seconds: SECONDS, seed: SEED, workers: Number(values.workers) });
const open = await until(async () => api.sfu.rtmp!.server.size, (n) => n === 0, 10_000);
const bridges = await until(async () => runningBridges().length, (n) => n === 0, 10_000);
await until(async () => api.sfu.room('fuzzed'), (r) => !r, 5000);
const after = memory();
// the per-address budgets of wrong keys (one entry per address, 60 s) hold memory until their window passes
await new Promise((r) => setTimeout(r, 65_000));
const settled = memory();

console.log(`cases: ${stats.cases} in ${stats.seconds.toFixed(1)} s = ${stats.perSecond.toFixed(1)}/s (${stats.live} with the valid key; ${stats.closedByServer} closed by the server, ${stats.hungUp} hung up by the client)`);
console.log(`mutators: ${Object.entries(stats.byMutator).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
console.log(`publishes accepted: ${messages.get('RTMP publisher accepted') ?? 0}, bridged: ${messages.get('RTMP broadcast bridged') ?? 0}`);
console.log(`log lines: info ${levels[30] ?? 0}, warn ${levels[40] ?? 0}, error ${(levels[50] ?? 0) + (levels[60] ?? 0)}`);
console.log(`memory: RSS ${before.rss.toFixed(0)} → ${after.rss.toFixed(0)} MiB (65 s later ${settled.rss.toFixed(0)}), heap ${before.heap.toFixed(0)} → ${after.heap.toFixed(0)} MiB (65 s later ${settled.heap.toFixed(0)})`);
console.log(`left open: ${open} connections, ${bridges} bridge FFmpeg; escaped: ${escaped.length}`);
for (const e of [...escaped.slice(0, 10).map(String), ...errors.slice(0, 20)]) console.log(`  ${e}`);
await api.stop();
process.exit(escaped.length || errors.length || open || bridges ? 1 : 0);
