// Benchmark of the VoD transcoder: a generated 1080p30 source with audio (a past broadcast's HLS recording) through
// the whole pipeline (job queue, probe, each rendition, uploads, images), timed from the job's enqueue to the first
// playable rendition and to the full ladder; against the same FFmpeg commands run alone, back to back (the
// baseline, same run). CPU seconds per minute of source per rendition from the baseline's children (getrusage).
// Usage: flock /tmp/glint-heavy.lock npm run bench:transcode -- [--seconds 60]
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { vod } from '../shared/db/index.ts';
import { CONTENT_TYPES, vodPrefix } from '../shared/media.ts';
import { encodeOrder, ladderFor } from '../shared/vod-ladder.ts';
import { probe, renditionOptions } from '../transcoder/encode.ts';
import { ChildGroup } from '../shared/children.ts';
import { createLogger } from '../shared/logger.ts';
import { startTestApi } from '../tests/helpers/api.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const seconds = Number(values.seconds);
const run = promisify(execFile);

const src = await mkdtemp(path.join(os.tmpdir(), 'glint-bench-src-'));
console.log(`generating a ${seconds} s 1080p30 source…`);
await run('ffmpeg', [
  '-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
  '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '6M', '-pix_fmt', 'yuv420p', '-g', '60', '-c:a', 'aac',
  '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_segment_filename', path.join(src, 'seg-%05d.ts'), path.join(src, 'index.m3u8'),
]);

// baseline: the same FFmpeg commands alone, back to back (without -progress), each one's CPU seconds from bash's `times`
const input = path.join(src, 'index.m3u8');
const source = (await probe(input, { group: new ChildGroup(), log: createLogger('silent'), nice: 0, stallSeconds: 60 }))!;
const ladder = encodeOrder(ladderFor(source));
const out = await mkdtemp(path.join(os.tmpdir(), 'glint-bench-out-'));
const cpu: Record<string, number> = {};
const base0 = performance.now();
let baseFirst = 0;
for (const r of ladder) {
  const dir = path.join(out, r.name);
  await run('mkdir', ['-p', dir]);
  const args = ['-hide_banner', '-v', 'error', '-nostdin', '-i', input, ...renditionOptions(r, source, dir).filter((_, i, a) => a[i] !== '-progress' && a[i - 1] !== '-progress'), path.join(dir, 'index.m3u8')];
  const t0 = performance.now();
  const usage = await new Promise<number>((resolve, reject) => {
    // CPU seconds of the child: bash's `times` after it (user+sys of children)
    const sh = spawn('bash', ['-c', `ffmpeg ${args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ')} >/dev/null 2>&1; times`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    sh.stdout.on('data', (d) => (text += d));
    sh.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`baseline ${r.name} failed`));
      const line = text.trim().split('\n').at(-1)!; // children's "XmY.YYYs XmZ.ZZZs"
      const secs = [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((a, m) => a + Number(m[1]) * 60 + Number(m[2]), 0);
      resolve(secs);
    });
  });
  cpu[r.name] = usage;
  if (!baseFirst) baseFirst = performance.now() - base0;
  console.log(`baseline ${r.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s wall, ${usage.toFixed(1)} CPU s`);
}
const baseAll = performance.now() - base0;
await rm(out, { recursive: true, force: true });

// the pipeline
const api = await startTestApi({ JOBS_POLL_MS: '200' });
const owner = api.client();
await owner.post('/api/auth/sign-up/email', { email: 'bench@example.com', password: 'correct horse battery', name: 'bench' });
const ch = await owner.post('/api/channels', { slug: 'bench', title: 'bench' });
const id = crypto.randomUUID();
await api.deps.database.db.insert(vod).values({ id, channelId: ch.body.id, title: 'bench', status: 'ready', storagePrefix: vodPrefix(id), durationMs: seconds * 1000 });
for (const f of await readdir(src)) await api.deps.store.put(`${vodPrefix(id)}${f}`, new Uint8Array(await readFile(path.join(src, f))), CONTENT_TYPES[f.split('.').pop()!]!);
let first = 0;
const t0 = performance.now();
api.deps.bus.subscribe('vod.progress', (e) => {
  if (!first && e.vodId === id && e.renditions.some((r) => r.status === 'ready' && r.name !== 'audio')) first = performance.now() - t0;
});
await api.jobs.enqueue('vod.transcode', `vod.transcode:${id}`, { vodId: id });
for (;;) {
  const [row] = await api.deps.database.db.select().from(vod).where(eq(vod.id, id));
  if (row!.renditions.length && row!.renditions.every((r) => r.status === 'ready') && row!.storyboard) break;
  if (row!.renditions.some((r) => r.status === 'failed')) throw new Error('a rendition failed');
  await new Promise((r) => setTimeout(r, 100));
}
const all = performance.now() - t0;
await api.stop();
await rm(src, { recursive: true, force: true });

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
console.log(`\n| ${seconds} s 1080p30 source, ${os.cpus().length} cores | pipeline | FFmpeg alone |`);
console.log('|---|---|---|');
console.log(`| first playable rendition (240p) | ${s(first)} | ${s(baseFirst)} |`);
console.log(`| full ladder (${ladder.map((r) => r.name).join(', ')}) | ${s(all)} (+ images) | ${s(baseAll)} |`);
console.log(`\n| rendition | CPU s per minute of source |`);
console.log('|---|---|');
for (const r of ladder) console.log(`| ${r.name} | ${((cpu[r.name]! * 60) / seconds).toFixed(1)} |`);
process.exit(0);
