// Benchmark: SFU fan-out cost. One 720p publisher (Chromium's fake camera over WHIP, VP8, no simulcast) and a
// growing number of WHEP viewers, each a Chromium page that decodes the stream. At each step the SFU's mediasoup
// workers (the room's and the edge routers' it pipes to) are measured from /proc: CPU (user + system ticks over the window, as % of one core) and
// resident memory. The step with no viewers (ingest only) is the baseline. The first viewers also cost a fixed
// amount (an edge router on another worker, fed by a pipe transport, when the browser numbers codecs differently
// from the room's router); the per-viewer cost is the least-squares slope over the steps that have viewers, and
// viewers per core = 100 % / (CPU % per viewer).
// The camera plays a 1280×720 30 fps clip of FFmpeg's test pattern under moving noise, which keeps the VP8 encoder
// at its 2.5 Mbit/s cap (Chromium's built-in fake camera draws a simple 20 fps pattern that encodes to ~0.7 Mbit/s,
// which would flatter the SFU: its cost follows packets per second).
// Run: npm run bench:fanout   (options: --steps 0,1,2,4,6,8 --seconds 20 --browsers 2)
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { startTestApi } from '../tests/helpers/api.ts';
import { launchBrowser, type Browser } from '../tests/helpers/browser.ts';
import { view } from '../tests/helpers/webrtc.ts';
import { benchChannel, cameraClip, cpuPercent, slope, totalUsage } from './sfu-usage.ts';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '0,1,2,4,6,8' }, seconds: { type: 'string', default: '20' }, browsers: { type: 'string', default: '2' } } });
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

async function main() {
  const api = await startTestApi({ LOG_LEVEL: 'warn' });
  const browsers: Browser[] = [];
  const camera = cameraClip();
  for (let i = 0; i < BROWSERS; i++) browsers.push(await launchBrowser({ fakeMedia: true, args: [`--use-file-for-fake-video-capture=${camera}`] }));
  const rows: { viewers: number; cpu: number; sys: number; rssMb: number; decodingFps: number; kbps: number; res: string }[] = [];
  try {
    const owner = await api.client().signUp('Bench');
    const slug = 'fanout';
    const key = await benchChannel(owner, slug, 'Fan-out');
    const pub = await browsers[0]!.context.newPage();
    await pub.goto(api.base + '/healthz');
    await publish(pub, slug, key);
    await new Promise((r) => setTimeout(r, 8000)); // let the encoder ramp up to 720p at full bitrate
    const room = api.sfu.room(slug)!;
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
    for (const b of browsers) await b.close();
    await api.stop();
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
  console.log(`\nfixed cost of the first viewers (edge router + pipe): ${fixedCpu.toFixed(2)} % of a core, ${fixedMem.toFixed(1)} MB`);
  console.log(`per viewer (slope over ${wx.join(', ')} viewers): ${cpuPer.toFixed(3)} % of a core (kernel ${sysPer.toFixed(3)} %), ${memPer.toFixed(0)} KB resident → ${(100 / cpuPer).toFixed(0)} viewers per core (extrapolated)`);
}

await main();
