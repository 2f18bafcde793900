// Benchmark: chat delivery. N anonymous socket.io-client connections join one channel; one signed-in sender posts at
// a steady rate; every reader records each message's delivery latency (the sender's send time travels in the text;
// one clock, this process). Reported: p50/p99 delivery, delivered share, the API process's CPU while sending and its
// resident memory per connected client. Three times: one API process sending each message on its own
// (CHAT_BATCH_MS=0, the baseline), one with the default batching, and two on one Redis (Socket.IO Redis adapter) with
// the readers split between them and the sender on the first. The baseline for per-client memory is the same
// process's RSS before any client connects.
// Run: npm run bench:chat   (options: --clients 2000 --rate 50 --seconds 10). Needs PostgreSQL and Redis (loopback).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import { benchDatabase, cpuSeconds, rss, signUp, startApiProcess, type ApiProcess as Api } from './api-process.ts';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '2000' }, rate: { type: 'string', default: '50' }, seconds: { type: 'string', default: '10' } } });
const CLIENTS = Number(values.clients);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const REDIS_URL = process.env.GLINT_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = 'chat-bench-secret-0123456789abcdef0123';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// chat's own rate limits are lifted: the sender is the load
const startApi = (env: Record<string, string>) =>
  startApiProcess({ RTMP_ENABLED: 'false', BETTER_AUTH_SECRET: SECRET, CHAT_USER_MESSAGES: '10000', CHAT_ADDRESS_MESSAGES: '100000', CHAT_ADDRESS_JOINS: '100000', CHAT_CONNECTIONS_PER_ADDRESS: '100000', CHAT_SOCKET_PACKETS_PER_SECOND: '100000', ...env });

function connect(base: string, cookie?: string): Promise<Socket> {
  const s = io(base, { path: '/socket.io', transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { origin: base, ...(cookie ? { cookie } : {}) } });
  return new Promise((resolve, reject) => {
    s.once('connect', () => s.timeout(30_000).emitWithAck('join', { channel: 'bench-chat' }).then(() => resolve(s), reject));
    s.once('connect_error', reject);
  });
}

async function run(label: string, apis: Api[]) {
  const [first] = apis;
  const headers = { 'content-type': 'application/json', origin: first!.base };
  const cookie = await signUp(first!.base, 'Bench');
  await fetch(first!.base + '/api/channels', { method: 'POST', headers: { ...headers, cookie }, body: JSON.stringify({ slug: 'bench-chat', title: 'Bench chat' }) });
  await sleep(2000);
  const before = await Promise.all(apis.map((a) => rss(a.proc.pid!)));

  const latencies = new Float64Array(CLIENTS * RATE * SECONDS + CLIENTS);
  let received = 0;
  const readers: Socket[] = [];
  for (let i = 0; i < CLIENTS; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, CLIENTS - i) }, (_, k) => connect(apis[(i + k) % apis.length]!.base)));
    for (const s of batch) {
      s.on('messages', (batch: { text: string }[]) => {
        const now = performance.timeOrigin + performance.now();
        for (const m of batch) if (received < latencies.length) latencies[received++] = now - Number(m.text);
      });
      readers.push(s);
    }
  }
  await sleep(3000);
  const after = await Promise.all(apis.map((a) => rss(a.proc.pid!)));
  const perClientKb = (after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0)) / CLIENTS / 1024;

  const sender = await connect(first!.base, cookie);
  const cpu0 = await Promise.all(apis.map((a) => cpuSeconds(a.proc.pid!)));
  const t0 = performance.now();
  let sent = 0;
  let refused = 0;
  while (performance.now() - t0 < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
    for (; sent < due; sent++) sender.emit('send', { channel: 'bench-chat', text: String(performance.timeOrigin + performance.now()) }, (r: { ok: boolean }) => !r.ok && refused++);
    await sleep(5);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = await Promise.all(apis.map((a) => cpuSeconds(a.proc.pid!)));
  await sleep(3000); // the last deliveries
  for (const s of [...readers, sender]) s.disconnect();

  const lat = latencies.slice(0, received).sort();
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? NaN;
  const cpu = cpu1.map((c, i) => ((c - cpu0[i]!) / elapsed) * 100);
  const row = {
    label,
    clients: CLIENTS,
    rate: sent / elapsed,
    delivered: received / (sent * CLIENTS),
    refused,
    p50: pct(0.5),
    p99: pct(0.99),
    cpu: cpu.map((c) => c.toFixed(1)).join(' + '),
    perClientKb,
  };
  console.error(JSON.stringify(row));
  return row;
}

const database = await benchDatabase('chat_bench');
const url = database.url;
const rows = [];
try {
  // baseline: each message its own frame to every reader (what Glint did before batching)
  for (const [label, batchMs] of [
    ['one API process, no batching (CHAT_BATCH_MS=0) — baseline', '0'],
    ['one API process (CHAT_BATCH_MS=100, the default)', '100'],
  ] as const) {
    const single = await startApi({ DATABASE_URL: url, CHAT_BATCH_MS: batchMs });
    try {
      rows.push(await run(label, [single]));
    } finally {
      await single.stop();
    }
  }
  const prefix = `glint-chat-bench-${process.pid}:`;
  const a = await startApi({ DATABASE_URL: url, REDIS_URL, REDIS_PREFIX: prefix });
  const b = await startApi({ DATABASE_URL: url, REDIS_URL, REDIS_PREFIX: prefix, RECORDER_EMBEDDED: 'false' });
  try {
    rows.push(await run('two API processes, Redis adapter (readers split, sender on the first)', [a, b]));
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
} finally {
  await database.drop();
}

console.log(`
Command: \`npm run bench:chat -- --clients ${CLIENTS} --rate ${RATE} --seconds ${SECONDS}\` · ${new Date().toISOString().slice(0, 16).replace('T', ' ')}
Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}; the clients run in this one benchmark process on the same machine.

| setup | clients | messages/s sent | delivered | delivery p50 ms | p99 ms | API CPU, % of a core | API memory per client |
|---|---:|---:|---:|---:|---:|---:|---:|
${rows.map((r) => `| ${r.label} | ${r.clients} | ${r.rate.toFixed(1)} | ${(r.delivered * 100).toFixed(1)} % | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.cpu} | ${r.perClientKb.toFixed(1)} KB |`).join('\n')}
`);
