// Benchmark: the recorder. Chromium broadcasts over WHIP (fake camera 640×360 + microphone); for H.264 (stream-copied)
// and VP8 (transcoded to H.264) it measures the recording FFmpeg's CPU over a window while live, the storage written
// per minute, and — over several broadcasts — the time from the end of the broadcast (WHIP DELETE answered) until the
// VoD is listed as ready and its playlist carries #EXT-X-ENDLIST.
// Run: npm run bench:recorder   (options: --runs 5 --seconds 10)
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runningRecorders } from '../recorder/Recording.ts';
import { startTestApi } from '../tests/helpers/api.ts';
import { launchBrowser } from '../tests/helpers/browser.ts';
import { publish, unpublish } from '../tests/helpers/webrtc.ts';
import { pct } from './clock.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, seconds: { type: 'string', default: '10' } } });
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds);

const ticks = async (pid: number) => {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return Number(stat[11]) + Number(stat[12]);
};

async function main() {
  const api = await startTestApi({ LOG_LEVEL: 'warn' });
  const browser = await launchBrowser({ fakeMedia: true });
  const rows: { codec: string; readyMs: number[]; cpu: number[]; mbPerMin: number[] }[] = [];
  try {
    const owner = await api.client().signUp('Bench');
    for (const codec of ['H264', 'VP8'] as const) {
      const row = { codec, readyMs: [] as number[], cpu: [] as number[], mbPerMin: [] as number[] };
      rows.push(row);
      for (let run = 0; run < RUNS; run++) {
        const slug = `rec-bench-${codec.toLowerCase()}-${run}`;
        await owner.post('/api/channels', { slug, title: slug });
        const key = (await owner.post(`/api/channels/${slug}/stream-keys`, {})).body.key as string;
        const page = await browser.context.newPage();
        await page.goto(api.base + '/healthz');
        const p = await publish(page, { slug, key, codec });
        if (p.status !== 201) throw new Error(`WHIP ${p.status}: ${p.body}`);
        await new Promise((r) => setTimeout(r, 3000));
        const [pid] = runningRecorders();
        const [t0, c0] = [Date.now(), await ticks(pid!)];
        await new Promise((r) => setTimeout(r, SECONDS * 1000));
        row.cpu.push(((await ticks(pid!)) - c0) / ((Date.now() - t0) / 1000)); // 1/100 s ticks per second = % of a core
        await unpublish(page);
        const ended = Date.now();
        for (;;) {
          const v = (await api.client().get(`/api/channels/${slug}/vods`)).body.items?.[0];
          if (v?.status === 'ready' && /#EXT-X-ENDLIST/.test(await (await fetch(api.base + v.playlistUrl)).text())) {
            row.readyMs.push(Date.now() - ended);
            row.mbPerMin.push((v.sizeBytes / 1e6 / v.durationSeconds) * 60);
            break;
          }
          if (Date.now() - ended > 20_000) throw new Error(`${slug}: no VoD 20 s after the end`);
          await new Promise((r) => setTimeout(r, 50));
        }
        await page.close();
        console.error(`${codec} run ${run + 1}: ready after ${row.readyMs.at(-1)} ms, recorder CPU ${row.cpu.at(-1)!.toFixed(1)} %, ${row.mbPerMin.at(-1)!.toFixed(1)} MB/min`);
      }
    }
  } finally {
    await browser.close();
    await api.stop();
  }
  console.log(`\nRecorder: WHIP broadcasts of 640×360 (Chromium fake camera) + Opus, ${RUNS} per codec, CPU over ${SECONDS} s while live:\n`);
  console.log('| publisher codec | recording | VoD ready after end: median ms (min–max) | recording FFmpeg CPU, % of a core (median) | storage MB per minute (median) |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.codec} | ${r.codec === 'H264' ? 'H.264 copied, Opus → AAC' : 'VP8 → H.264 (x264 veryfast), Opus → AAC'} | ${pct(r.readyMs, 50)} (${Math.min(...r.readyMs)}–${Math.max(...r.readyMs)}) | ${pct(r.cpu, 50).toFixed(1)} | ${pct(r.mbPerMin, 50).toFixed(1)} |`);
  }
}

await main();
