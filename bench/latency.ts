// Benchmark: glass-to-glass latency through the SFU (WHIP in, WHEP out), with a direct browser-to-browser
// RTCPeerConnection measured on the same frames as the baseline.
//
// The publisher page draws the wall clock (Date.now(), 24 bits + an 8-bit checksum) as 32 black/white blocks into a
// canvas and captures one frame per drawing (captureStream(0) + requestFrame()), so a frame carries the instant it
// was made. That one canvas track goes out twice: over WHIP into Glint's SFU and straight to a second page over a
// plain RTCPeerConnection. Each viewer page reads every decoded frame back with requestVideoFrameCallback, draws it
// into a canvas and decodes the blocks; latency = the frame's expected display time − the instant drawn into it. Every
// page runs in its own Chromium process on this machine, so all read one wall clock.
// With --transcode-nice N, a 1080p30 x264 encode (the transcoder's encoder and preset, as many threads as it takes) runs
// for the whole measurement at niceness N, as the transcoder's FFmpeg does at TRANSCODE_NICE: live must not suffer.
// Run: npm run bench:latency   (options: --seconds 15 --codecs VP8,H264 --transcode-nice 10)
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { startTestApi } from '../tests/helpers/api.ts';
import { launchBrowser } from '../tests/helpers/browser.ts';
import { clockPage, pct } from './clock.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' }, codecs: { type: 'string', default: 'VP8,H264' }, warmup: { type: 'string', default: '4' }, 'transcode-nice': { type: 'string' } } });
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const CODECS = values.codecs!.split(',') as ('VP8' | 'H264')[];

type Result = { codec: string; path: string; frames: number; unreadable: number; median: number; p95: number; medianAtCallback: number; fps: number };

async function samples(page: Page) {
  return page.evaluate(() => ({ samples: (window as any).__samples as [number, number][], unreadable: (window as any).__unreadable as number }));
}

/** The competing transcode: until stopped, an endless 1080p30 source into libx264 veryfast, niced like the transcoder's. */
function competingTranscode(nice: number) {
  const ffmpeg = ['ffmpeg', '-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '6M', '-f', 'null', '-'];
  // (as fast as it goes, as a transcode of a file does: every core it can get, below live at its niceness)
  const child = spawn('nice', ['-n', String(nice), ...ffmpeg], { stdio: 'ignore' });
  return () => child.kill('SIGKILL');
}

async function main() {
  const nice = values['transcode-nice'] === undefined ? undefined : Number(values['transcode-nice']);
  const stopTranscode = nice === undefined ? () => undefined : competingTranscode(nice);
  const api = await startTestApi({ LOG_LEVEL: 'warn' });
  // one Chromium per page: a page in a background tab is not rendered, and requestVideoFrameCallback then fires ~1/s
  const browsers = { pub: await launchBrowser({ fakeMedia: true }), sfu: await launchBrowser({ fakeMedia: true }), direct: await launchBrowser({ fakeMedia: true }) };
  const results: Result[] = [];
  try {
    const owner = await api.client().signUp('Bench');
    for (const codec of CODECS) {
      const slug = `latency-${codec.toLowerCase()}`;
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
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      const used = await pages.pub.evaluate(() => (window as any).__codec());
      if (process.env.BENCH_DEBUG) for (const [name, p] of Object.entries(pages)) console.error(name, JSON.stringify(await p.evaluate(() => (window as any).__rtp())));
      for (const [path, page] of [['SFU (WHIP → mediasoup → WHEP)', pages.sfu], ['direct RTCPeerConnection (baseline)', pages.direct]] as const) {
        const { samples: s, unreadable } = await samples(page);
        if (s.length < 10) throw new Error(`${path}: only ${s.length} frames read back (${unreadable} unreadable)`);
        const display = s.map((x) => x[0]);
        results.push({ codec: used || codec, path, frames: s.length, unreadable, median: pct(display, 50), p95: pct(display, 95), medianAtCallback: pct(s.map((x) => x[1]), 50), fps: s.length / SECONDS });
      }
      for (const p of Object.values(pages)) await p.close();
      await owner.delete(`/api/channels/${slug}`);
    }
  } finally {
    stopTranscode();
    for (const b of Object.values(browsers)) await b.close();
    await api.stop();
  }

  console.log(`\nGlass-to-glass latency, ${SECONDS} s per codec after ${WARMUP} s warm-up, 640×360 @ 30 fps canvas clock${nice === undefined ? '' : `, a 1080p x264 transcode running at nice ${nice}`}:\n`);
  console.log('| codec | path | frames | fps | median ms | p95 ms | median at callback ms | unreadable |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of results) console.log(`| ${r.codec} | ${r.path} | ${r.frames} | ${r.fps.toFixed(1)} | ${r.median} | ${r.p95} | ${r.medianAtCallback} | ${r.unreadable} |`);
  for (const codec of new Set(results.map((r) => r.codec))) {
    const [sfu, direct] = results.filter((r) => r.codec === codec);
    console.log(`${codec}: SFU/direct median ratio ${(sfu!.median / direct!.median).toFixed(2)}×, p95 ratio ${(sfu!.p95 / direct!.p95).toFixed(2)}×`);
  }
}

await main();
