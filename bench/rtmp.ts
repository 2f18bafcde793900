// Benchmark: RTMP ingest. FFmpeg publishes over RTMP the way OBS does; Glint bridges it into the SFU and a Chromium
// viewer plays it over WHEP. Reports glass-to-glass latency (median, p95) and the bridge FFmpeg's CPU per stream,
// for a stream the bridge copies and for streams it must re-encode.
//
// The clock is the one bench/latency.ts uses: this process draws Date.now() as 32 black/white blocks into raw
// 640×360 frames, 30 a second, and pipes them into the publishing FFmpeg (libx264 + AAC → RTMP); the viewer page reads
// the blocks back from every decoded frame. Latency therefore includes the publisher's encoder, as OBS's would.
// Run: npm run bench:rtmp   (options: --seconds 20 --no-audio --runs 0,1,2)
import { execFileSync, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startTestApi } from '../tests/helpers/api.ts';
import { launchBrowser } from '../tests/helpers/browser.ts';
import { clockPage, pct } from './clock.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, warmup: { type: 'string', default: '5' }, 'no-audio': { type: 'boolean', default: false }, runs: { type: 'string', default: '0,1,2' } } });
const AUDIO = !values['no-audio'];
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const W = 640;
const H = 360;

const RUNS = [
  { name: 'baseline profile, zerolatency, 1 s GOP (OBS low-latency settings)', x264: ['-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '30'] },
  { name: 'High profile, zerolatency (no B-frames)', x264: ['-tune', 'zerolatency', '-g', '30'] },
  { name: 'x264 defaults (High, B-frames, lookahead), 1 s GOP', x264: ['-g', '30'] },
];

/** The frame for wall-clock instant t: 24 bits of t and an 8-bit checksum as 8 × 4 blocks of 80 px (see clock.ts). */
function clockFrame(t: number): Buffer {
  const v = t & 0xffffff;
  const word = ((v << 8) | (((v & 0xff) + ((v >> 8) & 0xff) + ((v >> 16) & 0xff)) & 0xff)) >>> 0;
  const frame = Buffer.alloc(W * H);
  for (let i = 0; i < 32; i++) {
    if (!((word >>> (31 - i)) & 1)) continue;
    const x0 = (i % 8) * 80;
    const y0 = Math.floor(i / 8) * 80;
    for (let y = y0; y < y0 + 80; y++) frame.fill(255, y * W + x0, y * W + x0 + 80);
  }
  return frame;
}

async function cpuTicks(pid: number) {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return Number(stat[11]) + Number(stat[12]);
}

function ffmpegChildren(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), 'ffmpeg'], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean);
  } catch {
    return [];
  }
}

async function main() {
  const api = await startTestApi({ LOG_LEVEL: 'warn' });
  const browser = await launchBrowser({ fakeMedia: true });
  const rows: { name: string; bridge: string; frames: number; unreadable: number; median: number; p95: number; bridgeCpu: number; publisherCpu: number }[] = [];
  try {
    const owner = await api.client().signUp('Bench');
    for (const [i, run] of RUNS.entries()) {
      if (!values.runs!.split(',').map(Number).includes(i)) continue;
      const slug = `rtmp-bench-${i}`;
      await owner.post('/api/channels', { slug, title: slug });
      const key = (await owner.post(`/api/channels/${slug}/stream-keys`, { label: 'bench' })).body.key as string;
      const publisher = spawn('ffmpeg', [
        '-hide_banner', '-loglevel', 'error',
        '-f', 'rawvideo', '-pix_fmt', 'gray', '-s', `${W}x${H}`, '-framerate', '30', '-use_wallclock_as_timestamps', '1', '-i', 'pipe:0',
        // the tone comes from this process too, stamped with the same wall clock as the frames: a lavfi source paced by
        // -re runs on its own clock, and the FLV muxer then holds video back until audio catches up (~250 ms here)
        ...(AUDIO ? ['-f', 's16le', '-ar', '48000', '-ac', '1', '-use_wallclock_as_timestamps', '1', '-i', 'pipe:3', '-map', '0:v', '-map', '1:a'] : []),
        '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-b:v', '1500k', ...run.x264,
        ...(AUDIO ? ['-c:a', 'aac', '-b:a', '128k'] : ['-an']), '-f', 'flv', `rtmp://127.0.0.1:${api.sfu.rtmp!.port}/live/${key}`,
      ], { stdio: ['pipe', 'ignore', 'inherit', 'pipe'] });
      publisher.stdin!.on('error', () => undefined);
      const audioIn = publisher.stdio[3] as NodeJS.WritableStream;
      audioIn.on('error', () => undefined);
      let sample = 0;
      const tone = () => {
        const pcm = Buffer.alloc(960 * 2); // 20 ms at 48 kHz, mono s16le
        for (let i = 0; i < 960; i++, sample++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * sample) / 48000)), i * 2);
        return pcm;
      };
      const timer = setInterval(() => publisher.stdin!.write(clockFrame(Date.now())), 1000 / 30);
      const audioTimer = AUDIO ? setInterval(() => audioIn.write(tone()), 20) : undefined;
      try {
        for (let t = 0; t < 100 && !api.sfu.room(slug)?.publisherId; t++) await new Promise((r) => setTimeout(r, 100));
        const room = api.sfu.room(slug);
        if (!room) throw new Error(`${run.name}: the broadcast did not go live`);
        const page = await clockPage(browser.context, api.base);
        await page.evaluate((s) => (window as any).__whep(s), slug);
        await new Promise((r) => setTimeout(r, WARMUP * 1000));
        await page.evaluate(() => (window as any).__resetSamples());
        const bridgePid = ffmpegChildren().find((pid) => pid !== publisher.pid)!;
        const [b0, p0, t0] = [await cpuTicks(bridgePid), await cpuTicks(publisher.pid!), Date.now()];
        await new Promise((r) => setTimeout(r, SECONDS * 1000));
        const [b1, p1, secs] = [await cpuTicks(bridgePid), await cpuTicks(publisher.pid!), (Date.now() - t0) / 1000];
        const { samples, unreadable } = await page.evaluate(() => ({ samples: (window as any).__samples as [number, number][], unreadable: (window as any).__unreadable as number }));
        if (samples.length < 10) throw new Error(`${run.name}: only ${samples.length} frames read back (${unreadable} unreadable)`);
        const latency = samples.map((s) => s[0]);
        const ingest = room.ingest as { video: string; reason?: string };
        rows.push({
          name: run.name,
          bridge: ingest.video === 'copy' ? 'copy' : `re-encode (${ingest.reason?.split(' (')[0]?.replace(/, the one every browser decodes/, '')})`,
          frames: samples.length,
          unreadable,
          median: pct(latency, 50),
          p95: pct(latency, 95),
          bridgeCpu: (b1 - b0) / secs, // ticks are 1/100 s: ticks per second = % of one core
          publisherCpu: (p1 - p0) / secs,
        });
        console.error(`${run.name}: ${JSON.stringify(rows.at(-1))}`);
        await page.close();
      } finally {
        clearInterval(timer);
        clearInterval(audioTimer);
        publisher.stdin!.end();
        audioIn.end();
        publisher.kill('SIGTERM');
        await new Promise((r) => publisher.once('exit', r));
      }
    }
  } finally {
    await browser.close();
    await api.stop();
  }
  console.log(`\nRTMP → WHEP, ${W}×${H} @ 30 fps clock frames + 48 kHz tone, libx264 1.5 Mbit/s + AAC; ${SECONDS} s per run after ${WARMUP} s warm-up:\n`);
  console.log('| publisher x264 settings | bridge video | frames read | median ms | p95 ms | bridge FFmpeg CPU, % of a core | publisher FFmpeg CPU, % of a core |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${r.bridge} | ${r.frames}${r.unreadable ? ` (+${r.unreadable} unreadable)` : ''} | ${r.median} | ${r.p95} | ${r.bridgeCpu.toFixed(1)} | ${r.publisherCpu.toFixed(1)} |`);
}

await main();
