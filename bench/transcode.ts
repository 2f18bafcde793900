// Benchmark of the VoD transcoder: a generated 1080p30 source with audio through the whole pipeline (job queue, probe,
// each rendition, uploads, images) against the same FFmpeg commands run alone, back to back (the baseline, same run).
// --source upload (the default): an MP4 uploaded through the API's tus endpoint (tus-js-client, the configured chunk
// size), timed from the last PATCH's 204 — the upload's end — to the first playable rendition (the VoD's JSON names a
// master playlist and its lowest rendition is ready, and the playlist is served) and to the full ladder, polling the
// JSON every 100 ms; the acceptance before it (the probe) from the upload's and the VoD's rows, against the same check
// run alone. --source recording: a past broadcast's HLS recording, timed from the job's enqueue.
// CPU seconds per minute of source per rendition from the baseline's children (getrusage).
// Usage: flock /tmp/glint-heavy.lock npm run bench:transcode -- [--seconds 60] [--source upload|recording]
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { checkVideo } from '../api/upload-check.ts';
import { vod } from '../shared/db/index.ts';
import { CONTENT_TYPES, vodPrefix } from '../shared/media.ts';
import { encodeOrder, ladderFor } from '../shared/vod-ladder.ts';
import { probe, renditionOptions } from '../transcoder/encode.ts';
import { ChildGroup } from '../shared/children.ts';
import { createLogger } from '../shared/logger.ts';
import { startTestApi, type Client, type TestApi } from '../tests/helpers/api.ts';
import { makeSource, uploadVideo, type SourceKind } from './vod-source.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, source: { type: 'string', default: 'upload' } } });
const seconds = Number(values.seconds);
const kind = values.source as SourceKind;
if (kind !== 'upload' && kind !== 'recording') throw new Error('--source is upload or recording');
const run = promisify(execFile);
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const src = await mkdtemp(path.join(os.tmpdir(), 'glint-bench-src-'));
console.log(`generating a ${seconds} s 1080p30 source (${kind === 'upload' ? 'MP4' : 'HLS recording'})…`);
const input = await makeSource(src, seconds, kind);

// baseline: the upload's check alone, then the same FFmpeg commands alone, back to back (without -progress), each
// one's CPU seconds from bash's `times`
let baseCheck = 0;
if (kind === 'upload') {
  const t0 = performance.now();
  const verdict = await checkVideo(input, (await stat(input)).size, 43_200);
  baseCheck = performance.now() - t0;
  if (!verdict.ok) throw new Error(`the source was refused: ${verdict.refusal.reason}`);
}
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
  if (!baseFirst && r.name !== 'audio') baseFirst = performance.now() - base0;
  console.log(`baseline ${r.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s wall, ${usage.toFixed(1)} CPU s`);
}
const baseAll = performance.now() - base0;
await rm(out, { recursive: true, force: true });

/** A past broadcast's recording stored as a VoD and its job enqueued; resolves to its id and when the clock starts. */
async function enqueueRecording(api: TestApi, owner: Client): Promise<{ vodId: string; t0: number }> {
  const ch = await owner.get('/api/channels/bench');
  const id = crypto.randomUUID();
  await api.deps.database.db.insert(vod).values({ id, channelId: ch.body.id, title: 'bench', status: 'ready', storagePrefix: vodPrefix(id), durationMs: seconds * 1000 });
  for (const f of await readdir(src)) await api.deps.store.put(`${vodPrefix(id)}${f}`, new Uint8Array(await readFile(path.join(src, f))), CONTENT_TYPES[f.split('.').pop()!]!);
  const t0 = performance.now();
  await api.jobs.enqueue('vod.transcode', `vod.transcode:${id}`, { vodId: id });
  return { vodId: id, t0 };
}

// the pipeline, on the API's defaults (the job queue woken by the upload's acceptance, TRANSCODE_NICE)
const api = await startTestApi(kind === 'recording' ? { JOBS_POLL_MS: '200' } : {});
const owner = await api.client().signUp('Bench');
if ((await owner.post('/api/channels', { slug: 'bench', title: 'Bench' })).status !== 201) throw new Error('channel');
let accepted = { probeMs: 0, answerMs: 0 };
let vodId: string;
let t0: number;
if (kind === 'upload') {
  const up = await uploadVideo(api, owner, input, 'bench');
  ({ vodId, endedAt: t0 } = up);
  accepted = up;
} else ({ vodId, t0 } = await enqueueRecording(api, owner));

// the VoD's JSON as a player reads it, every 100 ms
let first = 0;
let all = 0;
while (!all) {
  const v = (await owner.get(`/api/vods/${vodId}`)).body;
  const at = performance.now() - t0;
  if (v.renditions.some((r: { status: string }) => r.status === 'failed')) throw new Error('a rendition failed');
  if (!first && v.masterPlaylistUrl && v.renditions[0]?.status === 'ready') {
    const master = await fetch(new URL(v.masterPlaylistUrl, api.base));
    if (!master.ok || !(await master.text()).includes('#EXT-X-STREAM-INF')) throw new Error(`master playlist: ${master.status}`);
    first = at;
  }
  if (v.status === 'ready' && v.renditions.length && v.renditions.every((r: { status: string }) => r.status === 'ready') && v.storyboard) all = at;
  else await new Promise((r) => setTimeout(r, 100));
}
await api.stop();
await rm(src, { recursive: true, force: true });

const from = kind === 'upload' ? "from the upload's end (last PATCH's 204)" : "from the job's enqueue";
console.log(`\n| ${seconds} s 1080p30 ${kind === 'upload' ? 'MP4 upload' : 'HLS recording'}, ${os.cpus().length} cores | pipeline | FFmpeg alone |`);
console.log('|---|---|---|');
if (kind === 'upload') console.log(`| accepted: last byte stored → probe passed (+ VoD and job → 204) | ${s(accepted.probeMs)} (+ ${accepted.answerMs} ms) | ${s(baseCheck)} (the same check) |`);
console.log(`| first playable rendition (${ladder.find((r) => r.name !== 'audio')!.name}), ${from} | ${s(first)} | ${s(baseFirst)} |`);
console.log(`| full ladder (${ladder.map((r) => r.name).join(', ')}), ${from} | ${s(all)} (+ images) | ${s(baseAll)} |`);
console.log(`\n| rendition | CPU s per minute of source |`);
console.log('|---|---|');
for (const r of ladder) console.log(`| ${r.name} | ${((cpu[r.name]! * 60) / seconds).toFixed(1)} |`);
process.exit(0);
