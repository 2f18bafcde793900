// Benchmark: glass-to-glass latency through the SFU (WHIP in, WHEP out), with a direct browser-to-browser
// RTCPeerConnection measured on the same frames as the baseline.
//
// The publisher page draws the wall clock (Date.now(), 24 bits + an 8-bit checksum) as 32 black/white blocks into a
// canvas and captures one frame per drawing (captureStream(0) + requestFrame()), so a frame carries the instant it
// was made. That one canvas track goes out twice: over WHIP into Glint's SFU and straight to a second page over a
// plain RTCPeerConnection. Each viewer page reads every decoded frame back with requestVideoFrameCallback, draws it
// into a canvas and decodes the blocks; latency = the frame's expected display time − the instant drawn into it. Every
// page runs in its own Chromium process on this machine, so all read one wall clock.
// With --transcode, the same is measured twice in one run: first with no job, then while the API's own job queue runs
// a real 'vod.transcode' job (the transcoder's FFmpeg children, niced at TRANSCODE_NICE as configured, or as
// --transcode-nice sets it) on a 1080p30 MP4 uploaded through its tus endpoint: live must not suffer. The machine's
// CPU (busy, and the niced share of it) and the renditions encoding are sampled over each measured window.
// Run: npm run bench:latency   (options: --seconds 15 --codecs VP8,H264 --transcode [--transcode-nice 10 --source-seconds 60])
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { startTestApi, type Client, type TestApi } from '../tests/helpers/api.ts';
import { launchBrowser } from '../tests/helpers/browser.ts';
import { clockPage, pct } from './clock.ts';
import { makeSource, uploadVideo } from './vod-source.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    codecs: { type: 'string', default: 'VP8,H264' },
    warmup: { type: 'string', default: '4' },
    transcode: { type: 'boolean', default: false },
    'transcode-nice': { type: 'string' },
    'source-seconds': { type: 'string', default: '60' },
  },
});
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const CODECS = values.codecs!.split(',') as ('VP8' | 'H264')[];

type Load = 'none' | 'transcode';
type Result = { load: Load; codec: string; path: string; frames: number; unreadable: number; median: number; p95: number; medianAtCallback: number; fps: number; cpu: string; encoding: string };

async function samples(page: Page) {
  return page.evaluate(() => ({ samples: (window as any).__samples as [number, number][], unreadable: (window as any).__unreadable as number }));
}

/** The machine's CPU counters (/proc/stat's first line, in ticks): all, idle (with iowait), niced. */
async function cpuTicks() {
  const f = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { total: f.slice(0, 8).reduce((a, b) => a + b, 0), idle: f[3]! + f[4]!, nice: f[1]! };
}

/** The renditions of VoD `vodId` its transcode is encoding now (names), or 'done' once every one is ready. */
async function encoding(owner: Client, vodId: string): Promise<string> {
  const v = (await owner.get(`/api/vods/${vodId}`)).body as { renditions: { name: string; status: string }[] };
  if (v.renditions.length && v.renditions.every((r) => r.status === 'ready')) return 'done';
  return v.renditions.filter((r) => r.status === 'running').map((r) => r.name).join('+') || 'images';
}

async function main() {
  const nice = values['transcode-nice'];
  // the source first: generating it is an x264 encode of its own, done before anything is measured
  const srcDir = values.transcode ? await mkdtemp(path.join(os.tmpdir(), 'glint-bench-latency-src-')) : undefined;
  const source = srcDir ? await makeSource(srcDir, Number(values['source-seconds']), 'upload') : undefined;
  const api: TestApi = await startTestApi({ LOG_LEVEL: 'warn', ...(nice === undefined ? {} : { TRANSCODE_NICE: nice }) });
  // one Chromium per page: a page in a background tab is not rendered, and requestVideoFrameCallback then fires ~1/s
  const browsers = { pub: await launchBrowser({ fakeMedia: true }), sfu: await launchBrowser({ fakeMedia: true }), direct: await launchBrowser({ fakeMedia: true }) };
  const results: Result[] = [];
  try {
    const owner = await api.client().signUp('Bench');

    /** One codec's latency over both paths under `load`; `vodId` is the transcode running meanwhile. */
    const measure = async (codec: 'VP8' | 'H264', load: Load, vodId?: string) => {
      const slug = `latency-${codec.toLowerCase()}-${load}`;
      if ((await owner.post('/api/channels', { slug, title: `Latency ${codec}` })).status !== 201) throw new Error('channel');
      const key = (await owner.post(`/api/channels/${slug}/stream-keys`, { label: 'bench' })).body.key as string;
      const pages = { pub: await clockPage(browsers.pub.context, api.base), sfu: await clockPage(browsers.sfu.context, api.base), direct: await clockPage(browsers.direct.context, api.base) };
      await pages.pub.evaluate(() => (window as any).__startClock());
      await pages.pub.evaluate(([s, k, c]) => (window as any).__whip(s, k, c), [slug, key, codec]);
      await pages.sfu.evaluate((s) => (window as any).__whep(s), slug);
      const offer = await pages.pub.evaluate((c) => (window as any).__directOffer(c), codec);
      const answer = await pages.direct.evaluate((o) => (window as any).__directAnswer(o), offer);
      await pages.pub.evaluate((a) => (window as any).__directAnswered(a), answer);

      await new Promise((r) => setTimeout(r, WARMUP * 1000));
      for (const p of [pages.sfu, pages.direct]) await p.evaluate(() => (window as any).__resetSamples());
      const before = await cpuTicks();
      const seen = new Set<string>();
      if (vodId) seen.add(await encoding(owner, vodId));
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      if (vodId) seen.add(await encoding(owner, vodId));
      const after = await cpuTicks();
      if (seen.has('done')) throw new Error('the transcode ended during the measurement; give it a longer --source-seconds');
      const total = after.total - before.total;
      const cpu = `${Math.round((100 * (total - (after.idle - before.idle))) / total)} % (niced ${Math.round((100 * (after.nice - before.nice)) / total)} %)`;
      const used = await pages.pub.evaluate(() => (window as any).__codec());
      if (process.env.BENCH_DEBUG) for (const [name, p] of Object.entries(pages)) console.error(name, JSON.stringify(await p.evaluate(() => (window as any).__rtp())));
      for (const [path, page] of [['SFU (WHIP → mediasoup → WHEP)', pages.sfu], ['direct RTCPeerConnection (baseline)', pages.direct]] as const) {
        const { samples: s, unreadable } = await samples(page);
        if (s.length < 10) throw new Error(`${path}: only ${s.length} frames read back (${unreadable} unreadable)`);
        const display = s.map((x) => x[0]);
        results.push({ load, codec: used || codec, path, frames: s.length, unreadable, median: pct(display, 50), p95: pct(display, 95), medianAtCallback: pct(s.map((x) => x[1]), 50), fps: s.length / SECONDS, cpu, encoding: [...seen].join(' → ') || '–' });
      }
      for (const p of Object.values(pages)) await p.close();
      await owner.delete(`/api/channels/${slug}`);
    };

    for (const codec of CODECS) await measure(codec, 'none');
    if (source) {
      if ((await owner.post('/api/channels', { slug: 'films', title: 'Films' })).status !== 201) throw new Error('channel');
      const { vodId } = await uploadVideo(api, owner, source, 'films');
      // measured once the job's FFmpeg is at work (its first rendition running)
      while ((await encoding(owner, vodId)) === 'images') await new Promise((r) => setTimeout(r, 100));
      for (const codec of CODECS) await measure(codec, 'transcode', vodId);
    }
  } finally {
    for (const b of Object.values(browsers)) await b.close();
    await api.stop(); // closes the transcoder: its FFmpeg children with it
    if (srcDir) await rm(srcDir, { recursive: true, force: true });
  }

  const load = (l: Load) => (l === 'none' ? 'none' : `transcode job (TRANSCODE_NICE ${api.config.transcode.nice})`);
  console.log(`\nGlass-to-glass latency, ${SECONDS} s per codec after ${WARMUP} s warm-up, 640×360 @ 30 fps canvas clock${source ? `; then while the API transcodes a ${values['source-seconds']} s 1080p30 upload` : ''}:\n`);
  console.log('| load | codec | path | frames | fps | median ms | p95 ms | median at callback ms | unreadable | machine CPU busy | encoding |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---|---|');
  for (const r of results) console.log(`| ${load(r.load)} | ${r.codec} | ${r.path} | ${r.frames} | ${r.fps.toFixed(1)} | ${r.median} | ${r.p95} | ${r.medianAtCallback} | ${r.unreadable} | ${r.cpu} | ${r.encoding} |`);
  for (const l of new Set(results.map((r) => r.load))) {
    for (const codec of new Set(results.map((r) => r.codec))) {
      const [sfu, direct] = results.filter((r) => r.codec === codec && r.load === l);
      if (sfu && direct) console.log(`${load(l)}, ${codec}: SFU/direct median ratio ${(sfu.median / direct.median).toFixed(2)}×, p95 ratio ${(sfu.p95 / direct.p95).toFixed(2)}×`);
    }
  }
}

await main();
