// Benchmark: the SFU under hostile load. A real publisher (the canvas clock of bench/clock.ts over WHIP) and a real
// viewer (WHEP, every decoded frame read back) run on the built API in its own process; the viewer's glass-to-glass
// latency and the server's memory (the API process plus its mediasoup workers) are measured before the load (the
// baseline), during it and after it. The load: anonymous WHEP offers with crafted SDP, `--concurrency` in flight,
// and `--rtmp` RTMP connections that send half a handshake or nothing (re-opened when the server closes them) —
// first from one address, then spread over `--addresses` addresses (X-Forwarded-For through a trusted loopback
// proxy, as behind Caddy). Reported per phase: offers sent and refused per second by status, any 5xx, latency.
// Run: npm run bench:hostile   (options: --seconds 15 --concurrency 16 --rtmp 200 --addresses 1000)
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { launchBrowser } from '../tests/helpers/browser.ts';
import { whepOffer } from '../tests/helpers/whep-offer.ts';
import { rss, signUp, startApiProcess } from './api-process.ts';
import { clockPage, pct } from './clock.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '16' },
    rtmp: { type: 'string', default: '200' },
    addresses: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '4' },
  },
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const RTMP = Number(values.rtmp);
const ADDRESSES = Number(values.addresses);

/** The API process and its children (the mediasoup workers, FFmpeg if any). */
async function treeRss(pid: number): Promise<number> {
  let total = await rss(pid).catch(() => 0);
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean);
  for (const c of children) total += await treeRss(Number(c));
  return total;
}

type Load = { stop(): Promise<{ sent: number; statuses: Record<number, number>; fiveHundreds: number; noRetryAfter: number; seconds: number; rtmpOpened: number }> };

/** Hostile WHEP offers and stalled RTMP connections until stop(). `from` picks the address of the i-th offer. */
function hostileLoad(base: string, rtmpPort: number, from: (i: number) => string): Load {
  let running = true;
  let sent = 0;
  let fiveHundreds = 0;
  let noRetryAfter = 0;
  let rtmpOpened = 0;
  const statuses: Record<number, number> = {};
  const started = Date.now();
  const sockets = new Set<Socket>();
  const openRtmp = (i: number) => {
    if (!running) return;
    rtmpOpened++;
    const s = connect(rtmpPort, '127.0.0.1', () => {
      if (i % 2) s.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(512, 7)]));
    });
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => {
      sockets.delete(s);
      setTimeout(() => openRtmp(i), 100).unref(); // the server let it go: open another
    });
  };
  for (let i = 0; i < RTMP; i++) openRtmp(i);
  const worker = async () => {
    while (running) {
      const i = sent++;
      try {
        const res = await fetch(`${base}/whep/target`, { method: 'POST', headers: { 'content-type': 'application/sdp', 'x-forwarded-for': from(i) }, body: whepOffer() });
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status >= 500 && res.status !== 503) fiveHundreds++;
        if ((res.status === 429 || res.status === 503) && !(Number(res.headers.get('retry-after')) >= 1)) noRetryAfter++;
        await res.body?.cancel();
      } catch {
        statuses[0] = (statuses[0] ?? 0) + 1; // connection refused or reset
      }
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, worker);
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      for (const s of sockets) s.destroy();
      return { sent, statuses, fiveHundreds, noRetryAfter, seconds: (Date.now() - started) / 1000, rtmpOpened };
    },
  };
}

async function main() {
  const api = await startApiProcess({ TRUSTED_PROXIES: 'loopback', RTMP_PORT: '0', LOG_LEVEL: 'error' });
  const pub = await launchBrowser({ fakeMedia: true });
  const sub = await launchBrowser({ fakeMedia: true });
  const rows: { phase: string; median: number; p95: number; frames: number; rss: number; rssEnd: number; nodeEnd: number; load?: Awaited<ReturnType<Load['stop']>> }[] = [];
  try {
    const cookie = await signUp(api.base, 'Hostile bench');
    const json = (path: string, body: unknown) =>
      fetch(api.base + path, { method: 'POST', headers: { 'content-type': 'application/json', origin: api.base, cookie }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<any>);
    await json('/api/channels', { slug: 'target', title: 'Target' });
    const key = (await json('/api/channels/target/stream-keys', { label: 'bench' })).key as string;
    const rtmpPort = Number(new URL(((await (await fetch(api.base + '/api/ingest')).json()) as { rtmp: string }).rtmp.replace(/^rtmp/, 'http')).port);
    const pages = { pub: await clockPage(pub.context, api.base), sub: await clockPage(sub.context, api.base) };
    await pages.pub.evaluate(() => (window as any).__startClock());
    await pages.pub.evaluate(([k]) => (window as any).__whip('target', k, 'VP8'), [key]);
    await pages.sub.evaluate(() => (window as any).__whep('target'));
    await new Promise((r) => setTimeout(r, Number(values.warmup) * 1000));

    const phase = async (name: string, load?: () => Load) => {
      await pages.sub.evaluate(() => (window as any).__resetSamples());
      const running = load?.();
      let peak = 0;
      for (const until = Date.now() + SECONDS * 1000; Date.now() < until; ) {
        peak = Math.max(peak, await treeRss(api.proc.pid!));
        await new Promise((r) => setTimeout(r, 500));
      }
      const result = await running?.stop();
      const rssEnd = await treeRss(api.proc.pid!);
      const nodeEnd = await rss(api.proc.pid!);
      const s = (await pages.sub.evaluate(() => (window as any).__samples as [number, number][])).map((x) => x[0]);
      rows.push({ phase: name, median: s.length ? pct(s, 50) : NaN, p95: s.length ? pct(s, 95) : NaN, frames: s.length, rss: peak, rssEnd, nodeEnd, ...(result ? { load: result } : {}) });
    };
    await phase('before (baseline, no load)');
    await phase('during: one address', () => hostileLoad(api.base, rtmpPort, () => '203.0.113.66'));
    await phase('after', undefined);
    await phase(`during: ${ADDRESSES} addresses`, () => hostileLoad(api.base, rtmpPort, (i) => `10.66.${Math.floor((i % ADDRESSES) / 250)}.${(i % ADDRESSES) % 250 + 1}`));
    await phase('after (spread)', undefined);
  } finally {
    await pub.close();
    await sub.close();
    await api.stop();
  }

  console.log(`\nHostile load on the SFU: ${SECONDS} s per phase, ${CONCURRENCY} WHEP offers in flight, ${RTMP} stalled RTMP connections; one real viewer (VP8, 640×360 canvas clock):\n`);
  console.log('| phase | viewer latency median / p95 ms | frames read | server RSS peak / at the end (API + workers) | of which the API process at the end | offers/s | refused/s (429 · 503) | other statuses | 5xx other than 503 |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---|---:|');
  for (const r of rows) {
    const l = r.load;
    const refused = l ? ((l.statuses[429] ?? 0) + (l.statuses[503] ?? 0)) / l.seconds : 0;
    const other = l ? Object.entries(l.statuses).filter(([s]) => s !== '429' && s !== '503').map(([s, n]) => `${s}: ${n}`).join(', ') : '';
    console.log(
      `| ${r.phase} | ${r.median} / ${r.p95} | ${r.frames} | ${(r.rss / 1e6).toFixed(1)} / ${(r.rssEnd / 1e6).toFixed(1)} MB | ${(r.nodeEnd / 1e6).toFixed(1)} MB | ${l ? (l.sent / l.seconds).toFixed(0) : '–'} | ${l ? `${refused.toFixed(0)} (${l.statuses[429] ?? 0} · ${l.statuses[503] ?? 0})` : '–'} | ${other || '–'} | ${l ? l.fiveHundreds : '–'} |`,
    );
  }
  for (const r of rows) if (r.load) console.log(`${r.phase}: ${r.load.sent} offers in ${r.load.seconds.toFixed(1)} s; ${r.load.rtmpOpened} RTMP connections opened (${RTMP} held open, another opened whenever the server closed one)`);
  for (const r of rows) if (r.load?.noRetryAfter) console.log(`${r.phase}: ${r.load.noRetryAfter} refusals without Retry-After`);
}

await main();
