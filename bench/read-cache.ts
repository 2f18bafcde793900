// Benchmark: the read cache (issue 18). GET /api/channels/:slug — one popular channel, read by everyone at once — and
// its VoD list, with the cache off (READ_CACHE_TTL_SECONDS=0: every read queries the database; the baseline), in
// memory (embedded default) and in Redis (REDIS_URL), each against GET /healthz (no database) measured in the same
// API process. Target: the channel at ≥ 0.5× healthz's req/s with a p99 ≤ 20 ms.
// Run: npm run bench:read-cache   (options: --seconds 10 --connections 32; PostgreSQL and Redis on 127.0.0.1)
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchDatabase, seedChannels, startApiProcess } from './api-process.ts';
import { measure } from './load.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } } });
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
const rows: string[] = [];
const caches = [
  ['off (baseline)', { READ_CACHE_TTL_SECONDS: '0' }],
  ['memory', {}],
  ['Redis', { REDIS_URL, REDIS_PREFIX: `glint-bench-${Date.now()}:` }],
] as const;

for (const [cache, env] of caches) {
  // a fresh database each: the seed signs up the same user
  const database = await benchDatabase('readcache');
  // the media plane elsewhere: the benchmark measures the control plane's reads, not mediasoup's workers idling
  const server = await startApiProcess({ CHANNELS_PER_USER_HOUR: '1000', DATABASE_URL: database.url, SFU_URL: 'http://127.0.0.1:9', ...env });
  try {
    const slug = await seedChannels(server.base);
    const health = await measure(server.base, ['/healthz'], { connections: CONNECTIONS, seconds: SECONDS });
    const channel = await measure(server.base, [`/api/channels/${slug}`], { connections: CONNECTIONS, seconds: SECONDS });
    const vods = await measure(server.base, [`/api/channels/${slug}/vods`], { connections: CONNECTIONS, seconds: SECONDS });
    const ratio = channel.rps / health.rps;
    rows.push(`| ${cache} | GET /healthz (same process) | ${fmt(health.rps)} | | ${health.p50} | ${health.p99} | ${health.errors} |`);
    rows.push(`| ${cache} | GET /api/channels/:slug | ${fmt(channel.rps)} | ${ratio.toFixed(2)}× | ${channel.p50} | ${channel.p99} | ${channel.errors} |`);
    rows.push(`| ${cache} | GET /api/channels/:slug/vods | ${fmt(vods.rps)} | ${(vods.rps / health.rps).toFixed(2)}× | ${vods.p50} | ${vods.p99} | ${vods.errors} |`);
    console.error(`cache ${cache}: channel ${fmt(channel.rps)} req/s (${ratio.toFixed(2)}× healthz ${fmt(health.rps)}), p99 ${channel.p99} ms`);
  } finally {
    await server.stop();
    await database.drop();
  }
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`
Command: \`npm run bench:read-cache -- --seconds ${SECONDS} --connections ${CONNECTIONS}\` · ${new Date().toISOString().slice(0, 10)}
Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; the API (built, NODE_ENV=production, PostgreSQL 15 and Redis on 127.0.0.1) and the load generator (autocannon, ${CONNECTIONS} connections) on the same machine.

| read cache | request | req/s | × healthz | p50 ms | p99 ms | errors |
|---|---|---:|---:|---:|---:|---:|
${rows.join('\n')}
`);
