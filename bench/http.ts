// Benchmark: GET of a channel's JSON (requests/s, p50/p99 at fixed concurrency) on PGlite and on PostgreSQL,
// with GET /healthz (no database) measured in the same run as the baseline; and the resident memory of an idle
// Glint started the way `npm start` starts it.
// Run: npm run bench   (options: --seconds 10 --connections 32)
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchDatabase, rssOfTree, seedChannels as seed, startApiProcess as startServer } from './api-process.ts';
import { measure } from './load.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } } });
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);

const rows: string[] = [];
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });

// --- throughput: PGlite, then PostgreSQL ---
const database = await benchDatabase('bench');
try {
  // the seed creates 50 channels as one user: lift the per-user budget (the benchmark measures reads, not the limit)
  const SEED = { CHANNELS_PER_USER_HOUR: '1000' };
  for (const [label, env] of [['PGlite (embedded)', {}], ['PostgreSQL 15 (127.0.0.1)', { DATABASE_URL: database.url }]] as const) {
    const server = await startServer({ ...SEED, ...env });
    try {
      const slug = await seed(server.base);
      const channel = await measure(server.base, [`/api/channels/${slug}`], { connections: CONNECTIONS, seconds: SECONDS });
      const health = await measure(server.base, ['/healthz'], { connections: CONNECTIONS, seconds: SECONDS });
      rows.push(`| ${label} | GET /api/channels/:slug | ${fmt(channel.rps)} | ${channel.p50} | ${channel.p99} | ${channel.errors} |`);
      rows.push(`| ${label} | GET /healthz (baseline, no database) | ${fmt(health.rps)} | ${health.p50} | ${health.p99} | ${health.errors} |`);
      console.error(`${label}: channel ${fmt(channel.rps)} req/s p99 ${channel.p99} ms; healthz ${fmt(health.rps)} req/s`);
    } finally {
      await server.stop();
    }
  }
} finally {
  await database.drop();
}

// --- idle memory, embedded defaults ---
// RSS moves with V8's garbage collection, so sample it for 30 s after start-up settles and report the spread.
const idle = await startServer({});
await new Promise((r) => setTimeout(r, 5_000));
const samples: number[] = [];
for (let i = 0; i < 15; i++) {
  samples.push((await rssOfTree(idle.proc.pid!)) / 2 ** 20);
  await new Promise((r) => setTimeout(r, 2_000));
}
await idle.stop();
samples.sort((a, b) => a - b);
const median = samples[Math.floor(samples.length / 2)]!;

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`
Command: \`npm run bench -- --seconds ${SECONDS} --connections ${CONNECTIONS}\` · ${new Date().toISOString().slice(0, 10)}
Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; load generator (autocannon) in a separate process on the same machine.

| database | request | req/s | p50 ms | p99 ms | errors |
|---|---|---:|---:|---:|---:|
${rows.join('\n')}

Idle resident memory of Glint on embedded defaults (PGlite, in-process bus, first start on an empty DATA_DIR), sampled every 2 s for 30 s after ready + 5 s: median **${fmt(median)} MB**, min ${fmt(samples[0]!)} MB, max ${fmt(samples.at(-1)!)} MB (target ≤ 250 MB).
`);
