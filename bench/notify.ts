// Benchmark: the go-live fan-out to a channel's followers. A channel with N followers (seeded in SQL) goes live (a
// live_session row and `channel.live` on the Redis bus, as the SFU does); reported: how long until every follower has
// the inbox entry, entries per second, the API's CPU meanwhile, and GET /api/channels/:slug latency (autocannon,
// 10 connections) during the fan-out against the same request while idle (the baseline, same run) — going live and
// serving viewers must not wait for the fan-out.
// Run: npm run bench:notify   (options: --followers 100000). Needs PostgreSQL and Redis (loopback).
import os from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { createBus } from '../shared/bus.ts';
import { benchDatabase, cpuSeconds, signUp, startApiProcess } from './api-process.ts';

const { values } = parseArgs({ options: { followers: { type: 'string', default: '100000' } } });
const FOLLOWERS = Number(values.followers);
const REDIS_URL = process.env.GLINT_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const load = (url: string, seconds: number) =>
  autocannon({ url, connections: 10, duration: seconds }).then((r) => ({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 }));

const database = await benchDatabase('notify_bench');
const url = database.url;
const prefix = `glint-notify-bench-${process.pid}:`;
const api = await startApiProcess({ DATABASE_URL: url, REDIS_URL, REDIS_PREFIX: prefix, RTMP_ENABLED: 'false' });
const db = new pg.Client({ connectionString: url });
await db.connect();
const bus = await createBus(REDIS_URL, prefix);
try {
  const cookie = await signUp(api.base, 'Notify Bench');
  const created = await fetch(api.base + '/api/channels', { method: 'POST', headers: { 'content-type': 'application/json', origin: api.base, cookie }, body: JSON.stringify({ slug: 'notify-bench', title: 'Notify bench' }) });
  const channel = (await created.json()) as { id: string };
  const seeded = performance.now();
  await db.query(`insert into "user" (id, name, email, email_verified, created_at, updated_at)
    select 'f-' || g, 'Follower ' || g, 'f-' || g || '@example.test', false, now(), now() from generate_series(1, $1::int) g`, [FOLLOWERS]);
  await db.query(`insert into follow (user_id, channel_id) select 'f-' || g, $2 from generate_series(1, $1::int) g`, [FOLLOWERS, channel.id]);
  await db.query('analyze');
  console.error(`seeded ${FOLLOWERS} followers in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

  const target = api.base + '/api/channels/notify-bench';
  const idle = await load(target, 5);

  const sessionId = crypto.randomUUID();
  const startedAt = new Date();
  await db.query(`insert into live_session (id, channel_id, source, started_at) values ($1, $2, 'whip', $3)`, [sessionId, channel.id, startedAt]);
  const cpu0 = await cpuSeconds(api.proc.pid!);
  const t0 = performance.now();
  await bus.publish('channel.live', { channelId: channel.id, slug: 'notify-bench', sessionId, source: 'whip', codecs: ['video/VP8'], startedAt: startedAt.toISOString() });
  const during = load(target, 5);
  let done = 0;
  let first = NaN;
  for (;;) {
    const { rows } = await db.query('select count(*)::int as n from notification where live_session_id = $1', [sessionId]);
    done = rows[0].n;
    if (done > 0 && Number.isNaN(first)) first = performance.now() - t0;
    if (done >= FOLLOWERS || performance.now() - t0 > 600_000) break;
    await sleep(50);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = ((await cpuSeconds(api.proc.pid!)) - cpu0) / seconds;
  const busy = await during;

  console.log(`
Command: \`npm run bench:notify -- --followers ${FOLLOWERS}\` · ${new Date().toISOString().slice(0, 16).replace('T', ' ')}
Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; PostgreSQL 15 and Redis on the same machine.

| followers | first entry after | all entries after | entries/s | API CPU, % of a core | GET channel while idle (baseline) p50 / p99 ms, req/s | during the fan-out (first 5 s) |
|---:|---:|---:|---:|---:|---:|---:|
| ${FOLLOWERS} | ${first.toFixed(0)} ms | ${seconds.toFixed(2)} s | ${Math.round(done / seconds)} | ${(cpu * 100).toFixed(1)} | ${idle.p50} / ${idle.p99}, ${Math.round(idle.rps)} | ${busy.p50} / ${busy.p99}, ${Math.round(busy.rps)} |
`);
} finally {
  await bus.close();
  await db.end();
  await api.stop();
  await database.drop();
}
