// Benchmark: the viewer farm. Hundreds of real WebRTC viewers that do not decode (werift, bench/farm-client.ts),
// held by --procs child processes (bench/farm-worker.ts), watch one 720p broadcast at 2.5 Mbit/s; viewers are added
// in steps. The publisher is Chromium sending the bench/clock.ts clock (a 640×320 corner of blocks encoding the wall
// clock) over the fan-out benchmark's 1280×720 30 fps noisy test-pattern camera, VP8 capped at 2.5 Mbit/s, and beside the farm one decoding
// Chromium viewer reads the clock back from every frame: glass-to-glass latency while the SFU carries the farm.
// Per step: the SFU's mediasoup workers' CPU (user + kernel from /proc/<pid>/stat, as % of one core) and RSS; per
// viewer the step's cost over the no-farm baseline; the farm's own packet loss (sequence numbers), jitter, freezes
// (no new frame for 500 ms) and time to first frame of the viewers that step added; and the farm processes' CPU
// (they share the machine's cores with the SFU and Chromium), the API + SFU Node process's, and the whole machine's
// (what else ran beside the benchmark). --decrypt makes the farm's clients decrypt every packet (werift's own path).
// The baseline is the same run with no farm viewers: the SFU ingesting, the one Chromium viewer watching.
// --publisher file: the broadcast is a pre-encoded 2.5 Mbit/s H.264 file sent over RTMP with -c copy (no encoder to
// starve), and the glass-to-glass viewer watches a second, light Chromium clock channel on the same SFU.
// Run: npm run bench:farm -- --steps 50,100,200 --seconds 20 --procs 2 [--decrypt] [--publisher file]
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { startTestApi } from '../tests/helpers/api.ts';
import { launchBrowser, type Browser } from '../tests/helpers/browser.ts';
import { clockPage, pct } from './clock.ts';
import type { ClientStats } from './farm-client.ts';
import type { FarmReply, FarmRequest } from './farm-worker.ts';
import { benchChannel, cameraClip, cpuPercent, machineUsage, processUsage, totalUsage } from './sfu-usage.ts';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '50,100,200' }, seconds: { type: 'string', default: '20' }, procs: { type: 'string', default: '2' }, warmup: { type: 'string', default: '8' }, decrypt: { type: 'boolean', default: false }, publisher: { type: 'string', default: 'chromium' } } });
const STEPS = values.steps!.split(',').map(Number);
const SECONDS = Number(values.seconds);
const PROCS = Number(values.procs);
const WARMUP = Number(values.warmup);
const BITRATE = 2_500_000;
/**
 * chromium: the farm's channel is published by Chromium (clock over the camera clip, VP8 encoded live on these cores,
 * which a loaded machine starves). file: it is a pre-encoded 720p30 H.264 file at 2.5 Mbit/s sent over RTMP by
 * FFmpeg with -c copy (no encoder: the rate holds under load), and the Chromium clock publishes a second, light
 * channel on the same SFU that the glass-to-glass viewer watches.
 */
const PUBLISHER = values.publisher as 'chromium' | 'file';
if (PUBLISHER !== 'chromium' && PUBLISHER !== 'file') throw new Error('--publisher is chromium or file');

/** 20 s of the noisy 720p30 camera clip as H.264 baseline (copied by the RTMP bridge) at a constant 2.5 Mbit/s, with AAC. */
function broadcastFile(): string {
  const file = path.join(os.tmpdir(), 'glint-bench-720p30-2500k.flv');
  if (!existsSync(file)) {
    execFileSync('ffmpeg', [
      '-v', 'error', '-y', '-stream_loop', '-1', '-i', cameraClip(), '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '20',
      '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '30',
      '-b:v', '2500k', '-minrate', '2500k', '-maxrate', '2500k', '-bufsize', '2500k', '-x264-params', 'nal-hrd=cbr',
      '-c:a', 'aac', '-b:a', '96k', '-f', 'flv', file,
    ]);
  }
  return file;
}

/** A farm process and a queue of its answers (it answers requests in order). */
class FarmProcess {
  readonly child: ChildProcess;
  private readonly waiting: ((r: FarmReply) => void)[] = [];
  constructor(base: string, slug: string) {
    this.child = fork(new URL('./farm-worker.ts', import.meta.url), [base, slug, ...(values.decrypt ? ['decrypt'] : [])], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: FarmReply) => this.waiting.shift()?.(m));
  }
  ask<T extends FarmReply>(req: FarmRequest): Promise<T> {
    return new Promise((resolve) => {
      this.waiting.push(resolve as (r: FarmReply) => void);
      this.child.send(req);
    });
  }
}

type Row = {
  viewers: number;
  /** viewers the SFU's room holds (the Chromium viewer not counted): fewer when the SFU timed some out */
  inRoom: number;
  cpu: number;
  sys: number;
  /** CPU of each mediasoup worker (user + kernel, and kernel), % of one core */
  workers: { cpu: number; sys: number }[];
  rssMb: number;
  farmCpu: number;
  /** this process: the API and the SFU's Node side (mediasoup's control channel, the transports' watch timers) */
  nodeCpu: number;
  /** the whole machine's CPU, % of one core (all cores: up to 100 × cores), and its 1-minute load average */
  machineCpu: number;
  load: number;
  /** video packets never received (after retransmission), % of those sent */
  lossPct: number;
  /** video packets that came only by retransmission after a NACK, % of those sent */
  recoveredPct: number;
  /** frames per second per viewer (video packets with the marker bit) */
  fps: number;
  jitterMs: number;
  freezes: number;
  kbps: number;
  ttff: number[];
  failed: number;
  g2g: { median: number; p95: number; frames: number };
};

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function latencySamples(page: Page) {
  const s = await page.evaluate(() => (window as any).__samples as [number, number][]);
  const display = s.map((x) => x[0]);
  return { median: display.length ? pct(display, 50) : NaN, p95: display.length ? pct(display, 95) : NaN, frames: display.length };
}

async function main() {
  const api = await startTestApi({
    LOG_LEVEL: 'warn',
    // one address (loopback) holds the whole farm
    WHEP_OFFERS_PER_MINUTE: '100000',
    WHEP_SESSIONS_PER_ADDRESS: '100000',
    SFU_VIEWERS_PER_CHANNEL: '100000',
    SFU_MAX_VIEWERS: '100000',
  });
  // one Chromium per page: a page in a background tab is not rendered (requestVideoFrameCallback then fires ~1/s)
  const browsers: Browser[] = [await launchBrowser({ fakeMedia: true, args: [`--use-file-for-fake-video-capture=${cameraClip()}`] }), await launchBrowser({ fakeMedia: true })];
  const farm: FarmProcess[] = [];
  const rows: Row[] = [];
  let publisherRes = '';
  let ffmpegPublisher: ChildProcess | undefined;
  try {
    const owner = await api.client().signUp('Bench');
    const slug = 'farm';
    const key = await benchChannel(owner, slug, 'Viewer farm');
    const pub = await clockPage(browsers[0]!.context, api.base);
    let glassSlug = slug;
    if (PUBLISHER === 'file') {
      glassSlug = 'farm-clock';
      const clockKey = await benchChannel(owner, glassSlug, 'Glass-to-glass clock');
      await pub.evaluate(() => (window as any).__startClock());
      await pub.evaluate(([s, k]) => (window as any).__whip(s, k, 'VP8', 500_000), [glassSlug, clockKey] as const);
      const rtmp = `rtmp://127.0.0.1:${api.sfu.rtmp!.port}/live/${key}`;
      ffmpegPublisher = spawn('ffmpeg', ['-v', 'error', '-re', '-stream_loop', '-1', '-i', broadcastFile(), '-c', 'copy', '-f', 'flv', rtmp], { stdio: ['ignore', 'ignore', 'inherit'] });
      const end = Date.now() + 15_000;
      while (!api.sfu.room(slug)?.publisherId && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
      if (!api.sfu.room(slug)?.publisherId) throw new Error('the RTMP file publisher did not go live');
    } else {
      await pub.evaluate(() => (window as any).__startClock({ camera: { width: 1280, height: 720 } }));
      await pub.evaluate(([s, k, b]) => (window as any).__whip(s, k, 'VP8', b), [slug, key, BITRATE] as const);
    }
    const glass = await clockPage(browsers[1]!.context, api.base);
    await glass.evaluate((s) => (window as any).__whep(s), glassSlug);
    await new Promise((r) => setTimeout(r, WARMUP * 1000)); // the encoder ramps up to its cap
    const room = api.sfu.room(slug)!;
    const workerPids = (await api.sfu.pool.usage()).map((w) => w.pid);
    for (let i = 0; i < PROCS; i++) farm.push(new FarmProcess(api.base, slug));
    const farmPids = () => farm.map((f) => f.child.pid!);

    let viewers = 0;
    for (const n of [0, ...STEPS]) {
      const adding = n - viewers;
      let ttff: number[] = [];
      let failed = 0;
      if (adding > 0) {
        const shares = farm.map((_, i) => Math.floor(adding / PROCS) + (i < adding % PROCS ? 1 : 0));
        const replies = await Promise.all(farm.map((f, i) => f.ask<{ added: number; failed: string[]; ttffMs: number[] }>({ add: shares[i]! })));
        ttff = replies.flatMap((r) => r.ttffMs);
        failed = sum(replies.map((r) => r.failed.length));
        const reasons = [...new Set(replies.flatMap((r) => r.failed))];
        if (reasons.length) console.error(`step ${n}: ${failed} viewers failed: ${reasons.slice(0, 3).join('; ')}`);
        viewers += sum(replies.map((r) => r.added));
      }
      await new Promise((r) => setTimeout(r, 3000)); // joins settle (keyframe requests, DTLS)
      const statsOf = async () => (await Promise.all(farm.map((f) => f.ask<{ stats: ClientStats[] }>({ stats: true })))).flatMap((r) => r.stats);
      const ma = await machineUsage();
      const na = await processUsage(process.pid);
      const [a, wa, fa, ca] = [await totalUsage(workerPids), await Promise.all(workerPids.map(processUsage)), await totalUsage(farmPids()), await statsOf()];
      await glass.evaluate(() => (window as any).__resetSamples());
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      const mb = await machineUsage();
      const nb = await processUsage(process.pid);
      const [b, wb, fb, cb] = [await totalUsage(workerPids), await Promise.all(workerPids.map(processUsage)), await totalUsage(farmPids()), await statsOf()];
      const secs = (performance.now() - t0) / 1000;
      const g2g = await latencySamples(glass);
      // the viewers present at both readings (in join order, so the first ca.length of cb)
      const pairs = ca.map((x, i) => [x, cb[i]!] as const);
      const expected = sum(pairs.map(([x, y]) => y.videoExpected - x.videoExpected));
      const received = sum(pairs.map(([x, y]) => y.videoPackets - x.videoPackets));
      const recovered = sum(pairs.map(([x, y]) => y.videoRecovered - x.videoRecovered));
      rows.push({
        viewers,
        inRoom: room.viewerCount - (PUBLISHER === 'file' ? 0 : 1),
        ...cpuPercent(a, b, secs),
        workers: wa.map((x, i) => cpuPercent(x, wb[i]!, secs)),
        rssMb: b.rssKb / 1024,
        farmCpu: cpuPercent(fa, fb, secs).cpu,
        nodeCpu: cpuPercent(na, nb, secs).cpu,
        machineCpu: ((mb.busy - ma.busy) / (mb.all - ma.all)) * 100 * os.availableParallelism(),
        load: os.loadavg()[0]!,
        lossPct: expected ? (Math.max(0, expected - received) / expected) * 100 : 0,
        recoveredPct: expected ? (recovered / expected) * 100 : 0,
        fps: pairs.length ? sum(pairs.map(([x, y]) => y.videoFrames - x.videoFrames)) / secs / pairs.length : 0,
        jitterMs: pairs.length ? sum(pairs.map(([, y]) => y.jitterMs)) / pairs.length : 0,
        freezes: sum(pairs.map(([x, y]) => y.freezes - x.freezes)),
        kbps: pairs.length ? (sum(pairs.map(([x, y]) => y.bytes - x.bytes)) * 8) / 1000 / secs / pairs.length : 0,
        ttff,
        failed,
        g2g,
      });
      const r = rows.at(-1)!;
      console.error(`viewers ${viewers} (room ${room.viewerCount}): SFU ${r.cpu.toFixed(1)} % (kernel ${r.sys.toFixed(1)}; workers ${r.workers.map((w) => w.cpu.toFixed(1)).join(' + ')}), RSS ${r.rssMb.toFixed(0)} MB, SFU's Node process ${r.nodeCpu.toFixed(1)} %, farm ${r.farmCpu.toFixed(0)} %, machine ${r.machineCpu.toFixed(0)} % (load ${r.load.toFixed(1)}), loss ${r.lossPct.toFixed(2)} % (recovered ${r.recoveredPct.toFixed(2)} %), ${r.fps.toFixed(1)} fps, ${r.kbps.toFixed(0)} kbit/s, freezes ${r.freezes}, g2g ${g2g.median} ms (${g2g.frames} frames)`);
    }
    publisherRes = JSON.stringify(await pub.evaluate(() => (window as any).__rtp()));
  } finally {
    // a farm process that died answers nothing: it is killed after a grace period
    await Promise.all(farm.map((f) => Promise.race([f.ask({ stop: true }), new Promise((r) => setTimeout(r, 15_000))]).then(() => f.child.kill())));
    ffmpegPublisher?.kill('SIGTERM');
    for (const b of browsers) await b.close();
    await api.stop();
  }

  const base = rows[0]!;
  const cores = os.availableParallelism();
  console.log(`\nViewer farm: 1 publisher (${PUBLISHER === 'file' ? 'FFmpeg over RTMP, a pre-encoded H.264 baseline 1280×720 30 fps file at 2.5 Mbit/s copied, not encoded; the glass-to-glass viewer watches a second channel with the Chromium clock' : 'Chromium, VP8 1280×720 camera clip + clock, ≤ 2.5 Mbit/s'}), werift viewers (${values.decrypt ? 'decrypting every packet' : 'reading SRTP headers only'}) in ${PROCS} processes, 1 decoding Chromium viewer for glass-to-glass, ${SECONDS} s per step, ${cores} cores (${os.cpus()[0]?.model.trim()}):\n`);
  console.log("| viewers (in the SFU's room) | SFU CPU % of a core (kernel) | per worker (kernel) | CPU per viewer % | SFU RSS MB | RSS per viewer KB | API + SFU Node process CPU % | farm CPU % | machine CPU % (load) | viewer kbit/s | fps | loss % (recovered by RTX) | jitter ms | freezes | TTFF p50 / p95 ms | glass-to-glass median / p95 ms |");
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const per = r.viewers ? ((r.cpu - base.cpu) / r.viewers).toFixed(3) : '–';
    const mem = r.viewers ? (((r.rssMb - base.rssMb) * 1024) / r.viewers).toFixed(0) : '–';
    const ttff = r.ttff.length ? `${pct(r.ttff, 50).toFixed(0)} / ${pct(r.ttff, 95).toFixed(0)}` : '–';
    const label = r.viewers === 0 ? '0 (baseline)' : `${r.viewers} (${r.inRoom})${r.failed ? `, ${r.failed} failed to start` : ''}`;
    const workers = r.workers.map((w) => `${w.cpu.toFixed(1)} (${w.sys.toFixed(1)})`).join(' / ');
    console.log(`| ${label} | ${r.cpu.toFixed(1)} (${r.sys.toFixed(1)}) | ${workers} | ${per} | ${r.rssMb.toFixed(0)} | ${mem} | ${r.nodeCpu.toFixed(1)} | ${r.farmCpu.toFixed(0)} | ${r.machineCpu.toFixed(0)} (${r.load.toFixed(1)}) | ${r.viewers ? r.kbps.toFixed(0) : '–'} | ${r.viewers ? r.fps.toFixed(1) : '–'} | ${r.viewers ? `${r.lossPct.toFixed(2)} (${r.recoveredPct.toFixed(2)})` : '–'} | ${r.viewers ? r.jitterMs.toFixed(1) : '–'} | ${r.viewers ? r.freezes : '–'} | ${ttff} | ${r.g2g.median} / ${r.g2g.p95} |`);
  }
  console.log(`\npublisher: ${publisherRes}`);
}

await main();
