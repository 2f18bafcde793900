// Benchmark: chat delivery in a big room. N anonymous socket.io-client readers join one channel; signed-in senders post
// at a steady rate; every reader records each message's delivery latency (the send time travels in the text, on the
// monotonic clock all processes share). The readers live in --reader-procs child processes (bench/chat-readers.ts):
// 2,000 readers decoding every frame in one Node process saturate its core and then measure their own queue, not the
// API. Reported: p50/p99 delivery, the sender's acknowledgement p99 (the send path: checks and the database write),
// delivered share, the CPU of the API processes, of the readers, of this process (the senders) and of PostgreSQL (all
// its processes on the machine: other users of it count too) while sending, and
// the API's resident memory per connected client (its RSS before any client connected is the baseline).
// Setups, in one run: one API process with the batch interval --baseline-batch-ms (the baseline), one with
// --batch-ms, and two API processes on one PostgreSQL and one Redis (Socket.IO Redis adapter) with the readers split
// between them and a sender on each (half the rate each).
// Run: npm run bench:chat   (options: --clients 2000 --rate 50 --seconds 10 --reader-procs 2 --batch-ms 40
// --baseline-batch-ms 100; --profile DIR writes each API process's CPU profile there). Needs PostgreSQL and Redis.
import { fork, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Socket } from 'socket.io-client';
import { benchDatabase, cpuSeconds, rss, signUp, startApiProcess, type ApiProcess as Api } from './api-process.ts';
import { joinChat, monotonicMs, type ReadersReply, type ReadersRequest } from './chat-readers.ts';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '10' },
    'reader-procs': { type: 'string', default: '2' },
    'batch-ms': { type: 'string', default: '40' },
    'baseline-batch-ms': { type: 'string', default: '100' },
    profile: { type: 'string' },
  },
});
const CLIENTS = Number(values.clients);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const READER_PROCS = Number(values['reader-procs']);
const REDIS_URL = process.env.GLINT_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = 'chat-bench-secret-0123456789abcdef0123';
const CHANNEL = 'bench-chat';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// chat's own rate limits are lifted: the senders are the load
const startApi = (env: Record<string, string>) =>
  startApiProcess({
    RTMP_ENABLED: 'false',
    BETTER_AUTH_SECRET: SECRET,
    CHAT_USER_MESSAGES: '10000',
    CHAT_ADDRESS_MESSAGES: '100000',
    CHAT_ADDRESS_JOINS: '100000',
    CHAT_CONNECTIONS_PER_ADDRESS: '100000',
    CHAT_SOCKET_PACKETS_PER_SECOND: '100000',
    ...env,
  }, values.profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values.profile)}`] } : {});

/** A readers process and a queue of its answers (it answers requests in order). */
class Readers {
  readonly child: ChildProcess;
  private readonly waiting: ((r: ReadersReply) => void)[] = [];
  constructor() {
    this.child = fork(new URL('./chat-readers.ts', import.meta.url), [CHANNEL], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: ReadersReply) => this.waiting.shift()?.(m));
  }
  ask<T extends ReadersReply>(req: ReadersRequest): Promise<T> {
    return new Promise((resolve) => {
      this.waiting.push(resolve as (r: ReadersReply) => void);
      this.child.send(req);
    });
  }
}

/** CPU seconds of every PostgreSQL server process on the machine (its backends and background workers). */
async function postgresCpuSeconds(): Promise<number> {
  let total = 0;
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'postgres') total += await cpuSeconds(Number(pid)).catch(() => 0);
  }
  return total;
}

const percent = (busy: number, elapsed: number) => ((busy / elapsed) * 100).toFixed(1);
const quantile = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

async function run(label: string, apis: Api[]) {
  const [first] = apis;
  const headers = { 'content-type': 'application/json', origin: first!.base };
  const cookie = await signUp(first!.base, 'Bench');
  await fetch(first!.base + '/api/channels', { method: 'POST', headers: { ...headers, cookie }, body: JSON.stringify({ slug: CHANNEL, title: 'Bench chat' }) });
  await sleep(2000);
  const before = await Promise.all(apis.map((a) => rss(a.proc.pid!)));

  // each readers process holds its share, spread over every API process
  const readers = Array.from({ length: READER_PROCS }, () => new Readers());
  const share = (i: number) => Math.floor(CLIENTS / READER_PROCS) + (i < CLIENTS % READER_PROCS ? 1 : 0);
  await Promise.all(readers.map((r, i) => r.ask({ connect: apis.map((a) => a.base), count: share(i) })));
  await sleep(3000);
  const after = await Promise.all(apis.map((a) => rss(a.proc.pid!)));
  const perClientKb = (after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0)) / CLIENTS / 1024;
  await Promise.all(readers.map((r) => r.ask({ collect: true }))); // the joins' history is not a delivery

  // a sender on each API process, taking turns: together they send RATE a second
  const senders: Socket[] = await Promise.all(apis.map((a) => joinChat(a.base, CHANNEL, cookie)));
  const acks: number[] = [];
  const cpu0 = await Promise.all([...apis.map((a) => a.proc.pid!), ...readers.map((r) => r.child.pid!)].map(cpuSeconds));
  const own0 = process.cpuUsage();
  const pg0 = await postgresCpuSeconds();
  const t0 = performance.now();
  let sent = 0;
  let refused = 0;
  while (performance.now() - t0 < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
    for (; sent < due; sent++) {
      const at = monotonicMs();
      senders[sent % senders.length]!.emit('send', { channel: CHANNEL, text: String(at) }, (r: { ok: boolean }) => {
        acks.push(monotonicMs() - at);
        if (!r.ok) refused++;
      });
    }
    await sleep(5);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = await Promise.all([...apis.map((a) => a.proc.pid!), ...readers.map((r) => r.child.pid!)].map(cpuSeconds));
  const own = process.cpuUsage(own0);
  const pgBusy = (await postgresCpuSeconds()) - pg0;
  await sleep(3000); // the last deliveries
  const collected = await Promise.all(readers.map((r) => r.ask<{ latencies: Float64Array }>({ collect: true })));
  for (const s of senders) s.disconnect();
  await Promise.all(readers.map((r) => new Promise((done) => r.child.once('exit', done).send({ stop: true }))));

  const lat = new Float64Array(collected.reduce((n, c) => n + c.latencies.length, 0));
  let at = 0;
  for (const c of collected) lat.set(c.latencies, (at += c.latencies.length) - c.latencies.length);
  lat.sort();
  const ackSorted = Float64Array.from(acks).sort();
  const busy = cpu1.map((c, i) => c - cpu0[i]!);
  const row = {
    label,
    clients: CLIENTS,
    rate: sent / elapsed,
    delivered: lat.length / (sent * CLIENTS),
    refused,
    p50: quantile(lat, 0.5),
    p99: quantile(lat, 0.99),
    ackP99: quantile(ackSorted, 0.99),
    apiCpu: busy.slice(0, apis.length).map((b) => percent(b, elapsed)).join(' + '),
    readersCpu: busy.slice(apis.length).map((b) => percent(b, elapsed)).join(' + '),
    sendersCpu: percent((own.user + own.system) / 1e6, elapsed),
    postgresCpu: percent(pgBusy, elapsed),
    perClientKb,
  };
  console.error(JSON.stringify(row));
  return row;
}

const loadBefore = os.loadavg()[0]!;
const database = await benchDatabase('chat_bench');
const url = database.url;
const rows = [];
try {
  for (const [label, batchMs] of [
    [`one API process, CHAT_BATCH_MS=${values['baseline-batch-ms']} — baseline`, values['baseline-batch-ms']!],
    [`one API process, CHAT_BATCH_MS=${values['batch-ms']}`, values['batch-ms']!],
  ] as const) {
    const single = await startApi({ DATABASE_URL: url, CHAT_BATCH_MS: batchMs });
    try {
      rows.push(await run(label, [single]));
    } finally {
      await single.stop();
    }
  }
  const prefix = `glint-chat-bench-${process.pid}:`;
  const env = { DATABASE_URL: url, REDIS_URL, REDIS_PREFIX: prefix, CHAT_BATCH_MS: values['batch-ms']! };
  const a = await startApi(env);
  const b = await startApi({ ...env, RECORDER_EMBEDDED: 'false' });
  try {
    rows.push(await run(`two API processes on Redis, CHAT_BATCH_MS=${values['batch-ms']} (readers split, a sender on each)`, [a, b]));
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
} finally {
  await database.drop();
}

console.log(`
Command: \`npm run bench:chat -- --clients ${CLIENTS} --rate ${RATE} --seconds ${SECONDS} --reader-procs ${READER_PROCS} --batch-ms ${values['batch-ms']} --baseline-batch-ms ${values['baseline-batch-ms']}\` · ${new Date().toISOString().slice(0, 16).replace('T', ' ')}
Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; readers in ${READER_PROCS} processes and the senders in this one, on the same machine; 1-minute load average before the run ${loadBefore.toFixed(2)}.

| setup | clients | messages/s sent | delivered | delivery p50 ms | p99 ms | send ack p99 ms | API CPU, % of a core | readers' CPU | senders' CPU | PostgreSQL CPU | API memory per client |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.map((r) => `| ${r.label} | ${r.clients} | ${r.rate.toFixed(1)} | ${(r.delivered * 100).toFixed(1)} % | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.ackP99.toFixed(1)} | ${r.apiCpu} | ${r.readersCpu} | ${r.sendersCpu} | ${r.postgresCpu} | ${r.perClientKb.toFixed(1)} KB |`).join('\n')}
`);
