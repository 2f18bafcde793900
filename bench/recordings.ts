// Benchmark: recordings per publisher kind. Each kind that runs without a browser publishes N broadcasts of ~S
// seconds — FFmpeg over RTMP as OBS does (baseline H.264, copied by the bridge; x264 defaults with B-frames,
// re-encoded), and GStreamer's webrtcbin over WHIP (tests/helpers/whip-gst.py) — and each VoD is decoded whole:
// the table gives the VoD's duration error against the broadcast (mean, max) and the decode errors FFmpeg printed.
// Run: npm run bench:recordings   (options: --runs 5 --seconds 10 --kinds rtmp-copy,rtmp-reencode,whip-gst)
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { channelWithKey, startTestApi, type TestApi } from '../tests/helpers/api.ts';
import { startProcess } from '../tests/helpers/process.ts';
import { decodeWhole } from '../tests/helpers/vod-check.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, seconds: { type: 'string', default: '10' }, kinds: { type: 'string', default: 'rtmp-copy,rtmp-reencode,whip-gst' } } });
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds);
/** the system Python, which has GStreamer's bindings (gi) */
const WHIP_GST = fileURLToPath(new URL('../tests/helpers/whip-gst.py', import.meta.url));

/** One broadcast of SECONDS by each publisher kind, run to its end. */
const PUBLISHERS: Record<string, (api: TestApi, slug: string, key: string) => string[]> = {
  'rtmp-copy': (api, _slug, key) => rtmp(api, key, ['-profile:v', 'baseline', '-tune', 'zerolatency', '-g', '30']),
  'rtmp-reencode': (api, _slug, key) => rtmp(api, key, []),
  'whip-gst': (api, slug, key) => ['/usr/bin/python3', WHIP_GST, `${api.base}/whip/${slug}`, key, '--codec', 'h264', '--seconds', String(SECONDS)],
};

function rtmp(api: TestApi, key: string, x264: string[]): string[] {
  return [
    'ffmpeg', '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', String(SECONDS), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', ...x264, '-c:a', 'aac', '-b:a', '96k',
    '-f', 'flv', `rtmp://127.0.0.1:${api.sfu.rtmp!.port}/live/${key}`,
  ];
}

async function readyVod(api: TestApi, slug: string): Promise<{ playlistUrl: string }> {
  const client = api.client();
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    const v = (await client.get(`/api/channels/${slug}/vods`)).body.items?.[0];
    if (v?.status === 'ready') return v;
  }
  throw new Error(`${slug}: no VoD ready 30 s after the broadcast`);
}

async function main() {
  const api = await startTestApi({ LOG_LEVEL: 'warn' });
  const rows: { kind: string; errs: number[]; decodeErrors: number[] }[] = [];
  try {
    const owner = await api.client().signUp('Bench');
    for (const kind of values.kinds.split(',')) {
      const row = { kind, errs: [] as number[], decodeErrors: [] as number[] };
      rows.push(row);
      for (let run = 0; run < RUNS; run++) {
        const slug = `recs-${kind}-${run}`;
        const key = await channelWithKey(owner, slug);
        const [cmd, ...args] = PUBLISHERS[kind]!(api, slug, key);
        const publisher = startProcess(cmd!, args);
        await new Promise<void>((resolve) => publisher.proc.once('exit', () => resolve()));
        if (publisher.proc.exitCode !== 0) throw new Error(`${kind} publisher failed:\n${publisher.output()}`);
        const v = await readyVod(api, slug);
        const decoded = await decodeWhole(api.base + v.playlistUrl);
        row.errs.push(Math.abs(decoded.durationSeconds - SECONDS));
        row.decodeErrors.push(decoded.errors.length);
        console.error(`${kind} run ${run + 1}: VoD ${decoded.durationSeconds.toFixed(2)} s, ${decoded.errors.length} decode errors`);
        // each kind of complaint once (numbers and addresses stripped), to tell a timestamp from a corruption
        for (const e of new Set(decoded.errors.map((l) => l.replace(/0x[0-9a-f]+|\d+/g, 'N')))) console.error(`  ${e}`);
      }
    }
  } finally {
    await api.stop();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`\n${RUNS} broadcasts of ${SECONDS} s per kind\n`);
  console.log('| publisher kind | runs | duration error, mean / max s | decode errors, total (runs with any) |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.kind} | ${r.errs.length} | ${mean(r.errs).toFixed(2)} / ${Math.max(...r.errs).toFixed(2)} | ${r.decodeErrors.reduce((a, b) => a + b, 0)} (${r.decodeErrors.filter((n) => n > 0).length}) |`);
  }
}

await main();
process.exit(0);
