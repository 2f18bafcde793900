// Benchmark: SFU fan-out cost. One 720p publisher (Chromium's fake camera over WHIP, VP8, no simulcast) and a
// growing number of WHEP viewers, each a Chromium page that decodes the stream. At each step the SFU's mediasoup
// workers (the room's and the branch routers' it pipes to) are measured from /proc: CPU (user + system ticks over the window, as % of one core) and
// resident memory. The step with no viewers (ingest only) is the baseline. The first viewers also cost a fixed
// amount (a branch router fed by a pipe transport: Chromium numbers codecs differently from the room's router); the per-viewer cost is the least-squares slope over the steps that have viewers, and
// viewers per core = 100 % / (CPU % per viewer).
// The camera plays a 1280×720 30 fps clip of FFmpeg's test pattern under moving noise, which keeps the VP8 encoder
// at its 2.5 Mbit/s cap (Chromium's built-in fake camera draws a simple 20 fps pattern that encodes to ~0.7 Mbit/s,
// which would flatter the SFU: its cost follows packets per second).
// Run: npm run bench:fanout   (options: --steps 0,1,2,4,6,8 --seconds 20 --browsers 2)
//
// --compare (with --viewers 6): the same viewers of one channel pinned to the origin's worker (the other worker made
// to look full through the pool's seat counts, as before sfu/Fanout.ts) against spread over both (Fanout's own
// placement), in one run; each worker's CPU is measured apart, so the busiest worker — what bounds a channel — shows.
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { startTestApi } from '../tests/helpers/api.ts';
import { launchBrowser, type Browser } from '../tests/helpers/browser.ts';
import { until, view } from '../tests/helpers/webrtc.ts';
import { benchChannel, cameraClip, cpuPercent, processUsage, slope, totalUsage } from './sfu-usage.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '0,1,2,4,6,8' }, seconds: { type: 'string', default: '20' }, browsers: { type: 'string', default: '2' },
    compare: { type: 'boolean', default: false }, viewers: { type: 'string', default: '6' },
  },
});
const STEPS = values.steps!.split(',').map(Number);
const SECONDS = Number(values.seconds);
const BROWSERS = Number(values.browsers);
async function publish(page: Page, slug: string, key: string) {
  return page.evaluate(
    async ([slug, key]) => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720, frameRate: 30 } });
      const pc = new RTCPeerConnection({ iceServers: [] });
      for (const track of stream.getTracks()) {
        const t = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
        if (track.kind === 'video') {
          const caps = RTCRtpSender.getCapabilities('video')!.codecs;
          t.setCodecPreferences([...caps.filter((c) => c.mimeType === 'video/VP8'), ...caps.filter((c) => c.mimeType !== 'video/VP8')]);
          const params = t.sender.getParameters();
          params.encodings[0]!.maxBitrate = 2_500_000;
          (params as any).degradationPreference = 'maintain-resolution';
          await t.sender.setParameters(params);
        }
      }
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise((r) => setTimeout(r, 500));
      const res = await fetch(`/whip/${slug}`, { method: 'POST', headers: { 'content-type': 'application/sdp', authorization: `Bearer ${key}` }, body: pc.localDescription!.sdp });
      const body = await res.text();
      if (res.status !== 201) throw new Error(`WHIP ${res.status}: ${body}`);
      await pc.setRemoteDescription({ type: 'answer', sdp: body });
      (window as any).__pc = pc;
    },
    [slug, key],
  );
}

async function rtpStats(page: Page, dir: 'inbound-rtp' | 'outbound-rtp') {
  return page.evaluate(async (dir) => {
    const w = window as any;
    const stats = await ((w.__view?.pc ?? w.__pc) as RTCPeerConnection).getStats();
    let r = { frames: 0, bytes: 0, width: 0, height: 0 };
    stats.forEach((s: any) => {
      if (s.type === dir && s.kind === 'video') r = { frames: s.framesDecoded ?? s.framesEncoded ?? 0, bytes: s.bytesReceived ?? s.bytesSent ?? 0, width: s.frameWidth ?? 0, height: s.frameHeight ?? 0 };
    });
    return r;
  }, dir);
}

/** The API (with `env`), BROWSERS Chromium processes, and channel `fanout` live from the first one's page. */
async function start(env: Record<string, string>) {
  const api = await startTestApi({ LOG_LEVEL: 'warn', ...env });
  const browsers: Browser[] = [];
  const camera = cameraClip();
  for (let i = 0; i < BROWSERS; i++) browsers.push(await launchBrowser({ fakeMedia: true, args: [`--use-file-for-fake-video-capture=${camera}`] }));
  const stop = async () => {
    for (const b of browsers) await b.close();
    await api.stop();
  };
  try {
    const owner = await api.client().signUp('Bench');
    const slug = 'fanout';
    const key = await benchChannel(owner, slug, 'Fan-out');
    const pub = await browsers[0]!.context.newPage();
    await pub.goto(api.base + '/healthz');
    await publish(pub, slug, key);
    await new Promise((r) => setTimeout(r, 8000)); // let the encoder ramp up to 720p at full bitrate
    return { api, browsers, slug, pub, room: api.sfu.room(slug)!, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function main() {
  const { api, browsers, slug, pub, room, stop } = await start({});
  const rows: { viewers: number; cpu: number; sys: number; rssMb: number; decodingFps: number; kbps: number; res: string }[] = [];
  try {
    const workerPids = (await api.sfu.pool.usage()).map((w) => w.pid);
    const viewers: Page[] = [];
    for (const n of STEPS) {
      while (viewers.length < n) {
        const page = await browsers[viewers.length % BROWSERS]!.context.newPage();
        await page.goto(api.base + '/healthz');
        const v = await view(page, slug, { small: true });
        if (v.status !== 201) throw new Error(`WHEP ${v.status}: ${v.body}`);
        viewers.push(page);
      }
      await new Promise((r) => setTimeout(r, 3000));
      const a = await totalUsage(workerPids);
      const va = await Promise.all(viewers.map((v) => rtpStats(v, 'inbound-rtp')));
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      const b = await totalUsage(workerPids);
      const vb = await Promise.all(viewers.map((v) => rtpStats(v, 'inbound-rtp')));
      const secs = (Date.now() - t0) / 1000;
      const fps = viewers.length ? vb.reduce((s, x, i) => s + (x.frames - va[i]!.frames), 0) / viewers.length / secs : 0;
      const kbps = viewers.length ? (vb.reduce((s, x, i) => s + (x.bytes - va[i]!.bytes), 0) * 8) / 1000 / viewers.length / secs : 0;
      const out = await rtpStats(pub, 'outbound-rtp');
      rows.push({ viewers: n, ...cpuPercent(a, b, secs), rssMb: b.rssKb / 1024, decodingFps: fps, kbps, res: `${out.width}×${out.height}` });
      console.error(`viewers ${n}: workers CPU ${rows.at(-1)!.cpu.toFixed(1)} %, RSS ${rows.at(-1)!.rssMb.toFixed(1)} MB, viewer fps ${fps.toFixed(1)}, ${kbps.toFixed(0)} kbit/s, publisher ${rows.at(-1)!.res}`);
    }
    if (room.viewerCount !== viewers.length) console.error(`warning: room counts ${room.viewerCount} viewers, ${viewers.length} pages`);
  } finally {
    await stop();
  }

  const xs = rows.map((r) => r.viewers);
  const watched = rows.filter((r) => r.viewers > 0);
  const wx = watched.map((r) => r.viewers);
  const cpuPer = slope(wx, watched.map((r) => r.cpu));
  const sysPer = slope(wx, watched.map((r) => r.sys));
  const memPer = slope(wx, watched.map((r) => r.rssMb)) * 1024;
  const base = rows.find((r) => r.viewers === 0);
  const first = watched[0];
  const fixedCpu = base && first ? first.cpu - base.cpu - cpuPer * first.viewers : NaN;
  const fixedMem = base && first ? first.rssMb - base.rssMb - (memPer / 1024) * first.viewers : NaN;
  console.log(`\nSFU fan-out: 1 publisher (VP8, 1280×720 30 fps noisy test pattern, ≤ 2.5 Mbit/s), ${SECONDS} s per step, viewers in ${BROWSERS} Chromium processes:\n`);
  console.log('| viewers | SFU workers CPU % of a core (of which kernel) | SFU workers RSS MB | viewer decoded fps (mean) | viewer video kbit/s (mean) | publisher sends |');
  console.log('|---:|---:|---:|---:|---:|---|');
  for (const r of rows) console.log(`| ${r.viewers}${r.viewers === 0 ? ' (baseline: ingest only)' : ''} | ${r.cpu.toFixed(2)} (${r.sys.toFixed(2)}) | ${r.rssMb.toFixed(1)} | ${r.decodingFps.toFixed(1)} | ${r.kbps.toFixed(0)} | ${r.res} |`);
  console.log(`\nfixed cost of the first viewers (branch router + pipe): ${fixedCpu.toFixed(2)} % of a core, ${fixedMem.toFixed(1)} MB`);
  console.log(`per viewer (slope over ${wx.join(', ')} viewers): ${cpuPer.toFixed(3)} % of a core (kernel ${sysPer.toFixed(3)} %), ${memPer.toFixed(0)} KB resident → ${(100 / cpuPer).toFixed(0)} viewers per core (extrapolated)`);
}

/**
 * Pinned against spread: `VIEWERS` decoding viewers of one channel on the origin's worker alone (every other worker
 * holds phantom seats, so Fanout's least-loaded choice is always the origin's), then the same number placed as Fanout
 * places them. Each worker's CPU over SECONDS, and the viewers' decoded frame rate.
 */
async function compare() {
  const n = Number(values.viewers);
  const { api, browsers, slug, room, stop } = await start({ SFU_WORKERS: '2', SFU_VIEWERS_PER_CHANNEL: String(n), SFU_MAX_VIEWERS: String(4 * n) });
  const rows: { mode: string; seated: string; cpu: number[]; fps: number }[] = [];
  try {
    const pool = api.sfu.pool;
    const pids = (await pool.usage()).sort((a, b) => a.worker - b.worker).map((w) => w.pid);
    for (const mode of ['idle (baseline: ingest only)', 'pinned to the origin worker', 'spread by Fanout']) {
      const phantoms = mode.startsWith('pinned') ? pool.loads().filter((l) => l.worker !== room.placement().origin).flatMap((l) => Array.from({ length: n + 1 }, () => pool.seat(l.worker))) : [];
      const viewers: Page[] = [];
      for (let i = 0; !mode.startsWith('idle') && i < n; i++) {
        const page = await browsers[i % BROWSERS]!.context.newPage();
        await page.goto(api.base + '/healthz');
        const v = await view(page, slug, { small: true });
        if (v.status !== 201) throw new Error(`WHEP ${v.status}: ${v.body}`);
        viewers.push(page);
      }
      const seated = JSON.stringify(room.placement().viewersByWorker);
      await new Promise((r) => setTimeout(r, 3000));
      const a = await Promise.all(pids.map(processUsage));
      const va = await Promise.all(viewers.map((v) => rtpStats(v, 'inbound-rtp')));
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      const b = await Promise.all(pids.map(processUsage));
      const vb = await Promise.all(viewers.map((v) => rtpStats(v, 'inbound-rtp')));
      const secs = (Date.now() - t0) / 1000;
      const cpu = b.map((x, i) => cpuPercent(a[i]!, x, secs).cpu);
      const fps = viewers.length ? vb.reduce((s, x, i) => s + (x.frames - va[i]!.frames), 0) / viewers.length / secs : 0;
      rows.push({ mode, seated, cpu, fps });
      console.error(`${mode}: seated ${seated}, workers CPU ${cpu.map((c) => c.toFixed(1)).join(' / ')} %, viewer fps ${fps.toFixed(1)}`);
      for (const page of viewers) {
        await page.evaluate(() => fetch((window as any).__view.location, { method: 'DELETE' })).catch(() => undefined);
        await page.close();
      }
      for (const release of phantoms) release();
      await until(async () => room.viewerCount, (c) => c === 0, 5_000);
    }
  } finally {
    await stop();
  }
  console.log(`\nOne channel, ${n} decoding viewers, 2 mediasoup workers: 1 publisher (VP8, 1280×720 30 fps noisy test pattern, ≤ 2.5 Mbit/s), ${SECONDS} s per mode, viewers in ${BROWSERS} Chromium processes:\n`);
  console.log('| placement | viewers per worker | worker 0 CPU % of a core | worker 1 CPU % | busiest worker | both | viewer decoded fps (mean) |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.mode} | ${r.seated} | ${r.cpu[0]!.toFixed(2)} | ${r.cpu[1]!.toFixed(2)} | ${Math.max(...r.cpu).toFixed(2)} | ${r.cpu.reduce((x, y) => x + y, 0).toFixed(2)} | ${r.fps.toFixed(1)} |`);
}

await (values.compare ? compare() : main());
