// The VoD transcoder (transcoder/) end to end: a generated 720p source with audio becomes the ladder under
// vod/<id>/ — master playlist with CODECS/RESOLUTION/BANDWIDTH, never upscaled, each variant decoding, keyframes
// aligned — the lowest rendition published before the rest, an FFmpeg killed mid-job or stalled retried to the end,
// a past broadcast queued when its recording is ready (playing from its own copy meanwhile), the S3 path, and the
// nested paths served with a token and played by GStreamer's HLS client (tests/helpers/hls-gst.py).
// Node only (the media plane); FFmpeg-heavy: run under `flock /tmp/glint-heavy.lock`.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import S3rver from 's3rver';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { job, notification, vod } from '../../shared/db/index.ts';
import { CONTENT_TYPES, vodPrefix } from '../../shared/media.ts';
import type { Rendition } from '../../shared/vod-ladder.ts';
import { parseProbe } from '../../transcoder/encode.ts';
import { startWorker } from '../../transcoder/worker.ts';
import { createLogger } from '../../shared/logger.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { chatSocket } from '../helpers/chat.ts';
import { send } from '../helpers/tus.ts';
import { until } from '../helpers/webrtc.ts';
import type { VodProgress } from '../../shared/socket-events.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A recording as the recorder stores it (MPEG-TS in 2 s segments), `seconds` long at `size`, with a tone. */
async function recordingFiles(size: string, seconds: number): Promise<Record<string, Uint8Array>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glint-src-'));
  try {
    await run('ffmpeg', [
      '-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '60', '-c:a', 'aac',
      '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_segment_filename', path.join(dir, 'seg-%05d.ts'), path.join(dir, 'index.m3u8'),
    ]);
    const files: Record<string, Uint8Array> = {};
    for (const name of await readdir(dir)) files[name] = new Uint8Array(await readFile(path.join(dir, name)));
    return files;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A ready past broadcast of a fresh channel with `files`; its id. */
async function seedRecording(api: TestApi, files: Record<string, Uint8Array>, opts: { subscribersOnly?: boolean } = {}) {
  const owner = api.client();
  const name = `t${Math.random().toString(36).slice(2, 8)}`;
  await owner.post('/api/auth/sign-up/email', { email: `${name}@example.com`, password: 'correct horse battery', name });
  const ch = await owner.post('/api/channels', { slug: name, title: name });
  assert.is(ch.status, 201, ch.text);
  const id = crypto.randomUUID();
  await api.deps.database.db.insert(vod).values({ id, channelId: ch.body.id, title: name, status: 'ready', storagePrefix: vodPrefix(id), durationMs: 5000, visibility: opts.subscribersOnly ? 'subscribers' : 'public' });
  for (const [f, body] of Object.entries(files)) await api.deps.store.put(`${vodPrefix(id)}${f}`, body, CONTENT_TYPES[f.split('.').pop()!]!);
  return { id, owner, channelId: ch.body.id as string };
}

const rowOf = async (api: TestApi, id: string) => (await api.deps.database.db.select().from(vod).where(eq(vod.id, id)))[0]!;

/** Waits until every rendition of the VoD is ready (failing on a failed one past its retries). */
async function ladderDone(api: TestApi, id: string, timeoutMs = 240_000): Promise<Rendition[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await rowOf(api, id);
    if (r.renditions.length && r.renditions.every((x) => x.status === 'ready') && r.storyboard) return r.renditions;
    const [j] = await api.deps.database.db.select().from(job).where(eq(job.key, `vod.transcode:${id}`));
    if (j?.doneAt && j.lastError) throw new Error(`the transcode gave up: ${j.lastError}`);
    if (Date.now() > end) throw new Error(`ladder not done: ${JSON.stringify(r.renditions.map((x) => [x.name, x.status, x.progress]))} ${j?.lastError}`);
    await sleep(250);
  }
}

// the system Python, where Debian's python3-gi and GStreamer's typelibs are (as tests/live/native-whip.test.ts)
const PYTHON = '/usr/bin/python3';
const HLS_GST = fileURLToPath(new URL('../helpers/hls-gst.py', import.meta.url));

const t = suite<{ api: TestApi; source: Record<string, Uint8Array> }>('vod transcode');

t.before(async (ctx) => {
  ctx.api = await startTestApi({ TRANSCODE_STALL_SECONDS: '3', JOBS_POLL_MS: '200', TRANSCODE_PAST_BROADCASTS: 'true' });
  ctx.source = await recordingFiles('1280x720', 5);
});
t.after(async ({ api }) => api?.stop());

t('parseProbe reads size, frame rate, audio, duration and bitrate from FFmpeg, swapping a rotated portrait', () => {
  const lines = [
    'Input #0, mov,mp4,m4a,3gp,3g2,mj2, from \'a.mp4\':',
    '  Duration: 00:01:02.50, start: 0.000000, bitrate: 4521 kb/s',
    '  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, progressive), 1920x1080 [SAR 1:1 DAR 16:9], 4388 kb/s, 29.97 fps, 29.97 tbr, 30k tbn (default)',
    '    displaymatrix: rotation of -90.00 degrees',
    '  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 128 kb/s (default)',
  ];
  assert.equal(parseProbe(lines), { width: 1080, height: 1920, fps: 29.97, bitrate: 4_521_000, hasAudio: true, durationSeconds: 62.5 });
  assert.is(parseProbe(['  Stream #0:0: Audio: mp3, 44100 Hz']), null, 'no video');
});

t('a 720p recording gets 240p–720p and audio: lowest published first, master with CODECS/RESOLUTION/BANDWIDTH, images, notification', async ({ api, source }) => {
  const { id, owner } = await seedRecording(api, source, { subscribersOnly: true });
  served.id = id;
  served.owner = owner;
  // the VoD's page watches it over Socket.IO
  const socket = await chatSocket(api.base);
  const pushed: VodProgress[] = [];
  socket.on('vod:progress', (e: VodProgress) => pushed.push(e));
  const watched = await socket.timeout(5000).emitWithAck('vod:watch', { vodId: id });
  assert.ok(watched.ok, JSON.stringify(watched));
  assert.equal(watched.vod, { vodId: id, status: 'ready', renditions: [] });
  const unknown = await socket.timeout(5000).emitWithAck('vod:watch', { vodId: crypto.randomUUID() });
  assert.is(unknown.error?.code, 'not-found');
  assert.is((await socket.timeout(5000).emitWithAck('vod:watch', { vodId: 'nope' })).error?.code, 'invalid');
  assert.ok((await socket.timeout(5000).emitWithAck('vod:watch', { vodId: id })).ok);
  const seen: { ready: string[]; master: string | null }[] = [];
  const off = api.deps.bus.subscribe('vod.progress', (e) => {
    if (e.vodId !== id) return;
    const ready = e.renditions.filter((r) => r.status === 'ready').map((r) => r.name);
    void api.deps.store.get(`${vodPrefix(id)}master.m3u8`).then(async (o) => seen.push({ ready, master: o ? await new Response(o.body).text() : null }));
  });
  await api.jobs.enqueue('vod.transcode', `vod.transcode:${id}`, { vodId: id });
  const ladder = await ladderDone(api, id);
  off();
  await sleep(200);
  socket.close();
  assert.ok(pushed.some((e) => e.renditions.filter((r) => r.status === 'ready').length === 1 && e.renditions.length === 5), 'the page heard the first rendition ready');
  // (how many progress reports fall inside one rendition depends on the machine's speed: a 5 s source encodes in
  // under FFmpeg's 0.5 s report period when idle, so what is asserted is that each rendition was seen running, and
  // that progress only went forward)
  for (const name of ['240p', '360p', '480p', '720p', 'audio']) {
    assert.ok(pushed.some((e) => e.renditions.some((r) => r.name === name && r.status === 'running')), `the page saw ${name} running`);
    const seenProgress = pushed.map((e) => e.renditions.find((r) => r.name === name)!.progress);
    assert.ok(seenProgress.every((p, i) => p >= 0 && p <= 1 && (i === 0 || p >= seenProgress[i - 1]!)), `${name}'s progress only went forward: ${seenProgress.join(' ')}`);
  }
  assert.ok(pushed.at(-1)!.renditions.every((r) => r.status === 'ready'), 'and the end');
  assert.not.ok('videoBitrate' in pushed[0]!.renditions[0]!, "the encoder's settings stay server-side");
  assert.equal(ladder.map((r) => r.name), ['240p', '360p', '480p', '720p', 'audio'], 'never upscaled to 1080p');
  const firstPublished = seen.find((s) => s.ready.length === 1);
  assert.ok(firstPublished, 'a progress event with one rendition ready');
  assert.equal(firstPublished!.ready, ['240p'], 'the lowest rendition first');
  assert.ok(seen.some((s) => s.master && s.master.split('#EXT-X-STREAM-INF').length === 2 && s.ready.length < ladder.length), 'a master playlist with one variant while the rest was still encoding');

  const master = await new Response((await api.deps.store.get(`${vodPrefix(id)}master.m3u8`))!.body).text();
  const inf = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF:'));
  assert.is(inf.length, 5);
  for (const [i, res] of ['426x240', '640x360', '854x480', '1280x720'].entries()) {
    assert.match(inf[i]!, new RegExp(`BANDWIDTH=\\d+,CODECS="avc1\\.[0-9a-f]{6},mp4a\\.40\\.2",RESOLUTION=${res},FRAME-RATE=30\\.000`));
  }
  assert.match(inf[4]!, /CODECS="mp4a\.40\.2"$/);

  // every variant decodes; the video ones have keyframes at the same instants (every 2 s)
  const dir = path.join(api.config.mediaDir, vodPrefix(id));
  const keyframesOf: string[][] = [];
  for (const r of ladder) {
    const playlist = path.join(dir, r.name, 'index.m3u8');
    const text = await readFile(playlist, 'utf8');
    assert.match(text, /#EXT-X-MAP:URI="init\.mp4"/);
    assert.match(text, /seg-00000\.m4s/);
    const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', playlist, '-f', 'null', '-']);
    assert.is(stderr.trim(), '', `${r.name} decodes cleanly`);
    if (r.name === 'audio') continue;
    const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-skip_frame', 'nokey', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', playlist]);
    keyframesOf.push(stdout.trim().split('\n').map((s) => Number(s).toFixed(2)));
    const { stdout: dims } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,profile', '-of', 'csv=p=0', playlist]);
    assert.match(dims.trim(), new RegExp(`${r.width},${r.height}$`));
  }
  for (const k of keyframesOf) assert.equal(k, keyframesOf[0], 'keyframes aligned across renditions');
  assert.ok(keyframesOf[0]!.length >= 3, 'a keyframe every 2 s');

  const row = await rowOf(api, id);
  assert.ok(row.storyboard);
  for (const f of ['thumb-small.jpg', 'thumb-large.jpg', 'frame-1.jpg', 'frame-4.jpg', 'storyboard.jpg', 'storyboard.vtt']) assert.ok(((await api.deps.store.size(`${vodPrefix(id)}${f}`)) ?? 0) > 0, `${f} is stored, not empty`);
  const { stdout: small } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path.join(dir, 'thumb-small.jpg')]);
  assert.is(small.trim(), '320,180');
  const { stdout: large } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=width', '-of', 'csv=p=0', path.join(dir, 'thumb-large.jpg')]);
  assert.is(large.trim(), '1280', 'a 1280 px source is not upscaled, nor shrunk');
  const vtt = await readFile(path.join(dir, 'storyboard.vtt'), 'utf8');
  assert.match(vtt, /^WEBVTT/);
  assert.match(vtt, /storyboard\.jpg#xywh=160,0,160,90/);

  const [n] = await api.deps.database.db.select().from(notification).where(eq(notification.kind, 'vod.ready'));
  assert.ok(n, 'the owner is notified');
  const inbox = await owner.get('/api/me/notifications');
  assert.is(inbox.status, 200);
  assert.ok(inbox.body.items.some((i: { kind: string; vod?: { id: string } }) => i.kind === 'vod.ready' && i.vod?.id === id));
});

const served: { id?: string; owner?: ReturnType<TestApi['client']> } = {};

t('an uploaded file (tus, resumed after an interruption) becomes the ladder: processing, then ready with its lowest rendition, then every variant decoding', async ({ api }) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glint-upload-'));
  try {
    const file = path.join(dir, 'clip.mp4');
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', file]);
    const owner = await api.client().signUp('Uploader');
    assert.is((await owner.post('/api/channels', { slug: 'uploader', title: 'Uploader' })).status, 201);
    // the owner's open tab (a socket of theirs) hears "your video is ready" when the whole ladder is
    const tab = await chatSocket(api.base, owner);
    const heard: { kind: string; vod?: { id: string } }[] = [];
    tab.on('notification', (n: { kind: string; vod?: { id: string } }) => heard.push(n));
    const size = (await stat(file)).size;
    const half = await send(api.base, owner, file, { channel: 'uploader', chunkSize: 64 * 1024, abortAt: Math.floor(size / 2), title: 'My first upload' });
    const done = await send(api.base, owner, file, { channel: 'uploader', chunkSize: 64 * 1024, url: half.url! });
    assert.is(done.status, 204, done.body);
    assert.ok(done.vodId, 'the finishing PATCH names the VoD');
    const id = done.vodId!;
    const first = (await owner.get(`/api/vods/${id}`)).body;
    assert.is(first.title, 'My first upload');
    assert.is(first.source, 'upload');
    assert.ok(['processing', 'ready'].includes(first.status), first.status);
    const ladder = await ladderDone(api, id);
    assert.equal(ladder.map((r) => r.name), ['240p', '360p', '480p', 'audio'], 'up to the source, never upscaled');
    const page = (await owner.get(`/api/vods/${id}`)).body;
    assert.is(page.status, 'ready');
    assert.ok(page.masterPlaylistUrl, 'the page plays the master playlist');
    const master = await (await fetch(api.base + page.masterPlaylistUrl)).text();
    assert.is(master.split('#EXT-X-STREAM-INF').length - 1, 4, master);
    await until(async () => heard.length, (n) => n > 0, 5_000);
    tab.close();
    assert.ok(heard.some((n) => n.kind === 'vod.ready' && n.vod?.id === id), `the owner's tab was told: ${JSON.stringify(heard)}`);
    for (const r of ladder) {
      const url = `${api.base}/hls/vod/${id}/${r.name}/index.m3u8`;
      const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', url, '-f', 'null', '-']);
      assert.is(stderr.trim(), '', `${r.name} decodes cleanly over HTTP`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

t('GET /hls/vod/:id/… serves the ladder of a subscriber-only VoD with a token in every URI (variants, EXT-X-MAP, segments)', async ({ api }) => {
  const { id, owner } = served as unknown as { id: string; owner: ReturnType<TestApi['client']> };
  const anon = api.client();
  const detail = await owner.get(`/api/vods/${id}`);
  assert.is(detail.status, 200);
  assert.equal(detail.body.renditions.map((r: { name: string; status: string }) => `${r.name}:${r.status}`), ['240p:ready', '360p:ready', '480p:ready', '720p:ready', 'audio:ready']);
  assert.match(detail.body.masterPlaylistUrl, new RegExp(`^/hls/vod/${id}/master\\.m3u8\\?token=`));
  assert.ok(detail.body.thumbnails?.small.endsWith('thumb-small.jpg'));
  assert.match(detail.body.storyboard.vttUrl, /storyboard\.vtt\?token=/);
  assert.is(detail.body.posterCandidates.length, 4);
  assert.is((await anon.get(`/api/vods/${id}`)).body.masterPlaylistUrl, `/hls/vod/${id}/master.m3u8`, 'no token for a viewer who may not play it');

  assert.is((await fetch(`${api.base}/hls/vod/${id}/master.m3u8`)).status, 401, 'no token, no session: refused');
  assert.is((await fetch(`${api.base}/hls/vod/${id}/240p/init.mp4`)).status, 401);
  assert.is((await fetch(`${api.base}/hls/vod/${id}/storyboard.vtt`)).status, 401, 'the storyboard shows the video: restricted too');
  assert.is((await fetch(`${api.base}/hls/vod/${id}/thumb-small.jpg`)).status, 200, 'thumbnails are public like the poster');
  const master = await fetch(`${api.base}${detail.body.masterPlaylistUrl}`);
  assert.is(master.status, 200);
  const text = await master.text();
  const variants = text.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.is(variants.length, 5);
  for (const v of variants) assert.match(v, /^(240p|360p|480p|720p|audio)\/index\.m3u8\?token=/);
  const media = await fetch(`${api.base}/hls/vod/${id}/${variants[0]}`);
  assert.is(media.status, 200);
  const mediaText = await media.text();
  const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(mediaText)![1]!;
  assert.match(map, /^init\.mp4\?token=/);
  const init = await fetch(`${api.base}/hls/vod/${id}/240p/${map}`);
  assert.is(init.status, 200);
  assert.is(init.headers.get('content-type'), 'video/mp4');
  const seg = mediaText.split('\n').find((l) => l.startsWith('seg-'))!;
  const segRes = await fetch(`${api.base}/hls/vod/${id}/240p/${seg}`);
  assert.is(segRes.status, 200);
  assert.is(segRes.headers.get('content-type'), 'video/iso.segment');
  const vtt = await fetch(`${api.base}${detail.body.storyboard.vttUrl}`);
  assert.is(vtt.status, 200);
  assert.is(vtt.headers.get('content-type'), 'text/vtt');
  for (const bad of ['999p/index.m3u8', '240p/seg-1.m4s', '240p/x/init.mp4', 'frame-5.jpg', 'source/index.m3u8']) {
    assert.is((await fetch(`${api.base}/hls/vod/${id}/${bad}${map.slice(map.indexOf('?'))}`)).status, 404, bad);
  }

  // a third player beside hls.js (the web tests) and FFmpeg (above): GStreamer's HLS client, which WebKitGTK browsers
  // play HLS with, plays the signed master to the end with video and audio (Safari's own stack cannot run here)
  const { stdout: played } = await run(PYTHON, [HLS_GST, `${api.base}${detail.body.masterPlaylistUrl}`, '60'], { timeout: 90_000 });
  const gst = JSON.parse(played.trim().split('\n').at(-1)!);
  assert.is(gst.error, null, `GStreamer played without error: ${played}`);
  assert.ok(gst.eos, 'to the end of the stream');
  assert.ok(gst.video >= 5 * 30 * 0.9, `about 5 s of 30 fps video decoded: ${gst.video} frames`);
  assert.ok(gst.audio > 100, `audio decoded: ${gst.audio} buffers`);
  assert.ok(['426x240', '640x360', '854x480', '1280x720'].includes(`${gst.width}x${gst.height}`), `a rendition of the ladder: ${gst.width}x${gst.height}`);
});

t('a recording that becomes ready gets the ladder while it plays from its own copy; an FFmpeg killed mid-job is retried, finished renditions are not redone', async ({ api, source }) => {
  const { id, channelId } = await seedRecording(api, source);
  await api.deps.bus.publish('vod.ready', { vodId: id, channelId, sessionId: null, durationMs: 5000 });
  // wait for the second video rendition to be under way, then SIGKILL its FFmpeg
  const end = Date.now() + 120_000;
  let killed = 0;
  let firstInit = 0;
  let playableMeanwhile = false;
  while (!killed) {
    const r = await rowOf(api, id);
    if (!playableMeanwhile && r.renditions.some((x) => x.status === 'running')) {
      // the instant VoD plays from its own recording while the ladder is built: its JSON and its playlist say so
      const v = await api.client().get(`/api/vods/${id}`);
      assert.is(v.status, 200);
      assert.is(v.body.status, 'ready', 'the past broadcast stays ready during its transcode');
      const playlist = await fetch(v.body.playlistUrl.startsWith('http') ? v.body.playlistUrl : api.base + v.body.playlistUrl);
      assert.is(playlist.status, 200);
      const text = await playlist.text();
      assert.match(text, /#EXT-X-ENDLIST/);
      const segment = text.split('\n').find((l) => l && !l.startsWith('#'))!;
      const seg = await fetch(new URL(segment, playlist.url));
      assert.is(seg.status, 200, 'its recording\'s segments are served');
      assert.ok((await seg.arrayBuffer()).byteLength > 1000);
      playableMeanwhile = true;
    }
    const running = r.renditions.find((x) => x.name === '360p' && x.status === 'running');
    if (running && api.transcoder!.pids().length) {
      firstInit = (await stat(path.join(api.config.mediaDir, vodPrefix(id), '240p', 'init.mp4'))).mtimeMs;
      for (const pid of api.transcoder!.pids()) (process.kill(pid, 'SIGKILL'), killed++);
    }
    if (Date.now() > end || r.renditions.find((x) => x.name === '360p')?.status === 'ready') throw new Error(`never saw 360p running: ${JSON.stringify(r.renditions)}`);
    await sleep(10);
  }
  assert.ok(playableMeanwhile, 'checked while a rendition was running');
  await ladderDone(api, id);
  const after = (await api.client().get(`/api/vods/${id}`)).body;
  assert.ok(after.masterPlaylistUrl, 'then the master playlist');
  assert.ok(after.playlistUrl, 'and the recording\'s own playlist is still given');
  // the job is marked done a moment after its last rendition and images are stored
  const jobRow = async () => (await api.deps.database.db.select().from(job).where(eq(job.key, `vod.transcode:${id}`)))[0];
  const j = await until(jobRow, (row) => !!row?.doneAt, 10_000);
  assert.ok(j!.doneAt);
  assert.is(j!.attempts, 2, 'one failed attempt, one that finished');
  assert.is((await stat(path.join(api.config.mediaDir, vodPrefix(id), '240p', 'init.mp4'))).mtimeMs, firstInit, '240p was not encoded again');
});

t('an FFmpeg that shows no progress (its input blocks) is killed by the watchdog and the job retried', async ({ api }) => {
  const small = await recordingFiles('320x240', 4);
  const { id } = await seedRecording(api, small);
  // the second segment is a named pipe nobody writes: FFmpeg blocks opening it
  const seg = path.join(api.config.mediaDir, vodPrefix(id), 'seg-00001.ts');
  await unlink(seg);
  await run('mkfifo', [seg]);
  const started = Date.now();
  await api.jobs.enqueue('vod.transcode', `vod.transcode:${id}`, { vodId: id });
  for (;;) {
    const [j] = await api.deps.database.db.select().from(job).where(eq(job.key, `vod.transcode:${id}`));
    if (j?.lastError) {
      assert.match(j.lastError, /no progress for 3 s/);
      break;
    }
    if (Date.now() - started > 60_000) throw new Error('the stalled FFmpeg was never killed');
    await sleep(100);
  }
  assert.is(api.transcoder!.pids().length, 0, 'the stalled FFmpeg is gone');
  // the input comes back: the retry finishes
  await unlink(seg);
  await writeFile(seg, small['seg-00001.ts']!);
  const ladder = await ladderDone(api, id);
  assert.equal(ladder.map((r) => r.name), ['240p', 'audio']);
});

t('a VoD deleted during its transcode leaves no objects behind, and its job ends', async ({ api }) => {
  const { id, owner } = await seedRecording(api, await recordingFiles('640x360', 4));
  await api.jobs.enqueue('vod.transcode', `vod.transcode:${id}`, { vodId: id });
  const end = Date.now() + 60_000;
  while (!(await rowOf(api, id)).renditions.some((r) => r.status === 'ready')) {
    if (Date.now() > end) throw new Error('no rendition became ready');
    await sleep(50);
  }
  assert.is((await owner.delete(`/api/vods/${id}`)).status, 204);
  for (;;) {
    const [j] = await api.deps.database.db.select().from(job).where(eq(job.key, `vod.transcode:${id}`));
    if (j?.doneAt) break;
    if (Date.now() > end) throw new Error('the job never ended');
    await sleep(100);
  }
  await sleep(300);
  assert.equal(await api.deps.store.list(vodPrefix(id)), [], 'nothing under the prefix');
});

t('Transcoder.close() mid-job kills its FFmpeg children, twice is fine, and nothing is left running', async ({ api }) => {
  const small = await recordingFiles('640x360', 4);
  const { id } = await seedRecording(api, small);
  await api.jobs.enqueue('vod.transcode', `vod.transcode:${id}`, { vodId: id });
  const end = Date.now() + 60_000;
  let pids: number[] = [];
  while (!pids.length) {
    pids = api.transcoder!.pids();
    if (Date.now() > end) throw new Error('no FFmpeg started');
    await sleep(20);
  }
  // below live ingest: every thread of it niced (TRANSCODE_NICE, 10 by default)
  await sleep(500);
  const niceOf = async (stat: string) => Number((await readFile(stat, 'utf8')).slice((await readFile(stat, 'utf8')).lastIndexOf(')') + 2).split(' ')[16]);
  for (const pid of api.transcoder!.pids()) {
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
    for (const tid of tasks) assert.is(await niceOf(`/proc/${pid}/task/${tid}/stat`).catch(() => 10), 10, `thread ${tid} of FFmpeg ${pid} is niced`);
  }
  await Promise.all([api.transcoder!.close(), api.transcoder!.close()]);
  assert.is(api.transcoder!.pids().length, 0);
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), `FFmpeg ${pid} is gone`);
});

t.run();

// the S3 path: the recording is read from the object store (copied down), the ladder and images written back to it,
// and served by redirects to signed object URLs
const s3 = suite<{ api: TestApi; s3: S3rver; dir: string }>('vod transcode into S3 (s3rver from npm standing in for MinIO)');
s3.before(async (ctx) => {
  ctx.dir = await mkdtemp(path.join(os.tmpdir(), 'glint-s3rver-'));
  ctx.s3 = new S3rver({ port: 0, address: '127.0.0.1', directory: ctx.dir, silent: true });
  const { port } = await ctx.s3.run();
  ctx.api = await startTestApi({ S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER', JOBS_POLL_MS: '200', TRANSCODE_PAST_BROADCASTS: 'true' });
});
s3.after(async (ctx) => {
  await ctx.api?.stop();
  await ctx.s3?.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

s3('a past broadcast stored in S3 gets its ladder in S3', async ({ api }) => {
  assert.is(api.deps.store.kind, 's3');
  const { id, channelId } = await seedRecording(api, await recordingFiles('640x360', 4));
  await api.deps.bus.publish('vod.ready', { vodId: id, channelId, sessionId: null, durationMs: 4000 });
  const ladder = await ladderDone(api, id);
  assert.equal(ladder.map((r) => r.name), ['240p', '360p', 'audio']);
  const keys = await api.deps.store.list(vodPrefix(id));
  for (const k of ['master.m3u8', '240p/index.m3u8', '240p/init.mp4', '240p/seg-00000.m4s', '360p/init.mp4', 'audio/index.m3u8', 'storyboard.jpg', 'storyboard.vtt', 'thumb-small.jpg', 'frame-2.jpg', 'poster.jpg']) {
    assert.ok(keys.includes(`${vodPrefix(id)}${k}`), k);
  }
  const master = await fetch(`${api.base}/hls/vod/${id}/master.m3u8`);
  assert.is(master.status, 200);
  assert.match(await master.text(), /RESOLUTION=640x360/);
  const init = await fetch(`${api.base}/hls/vod/${id}/360p/init.mp4`, { redirect: 'manual' });
  assert.is(init.status, 302, 'segments come from the object store');
  const object = await fetch(init.headers.get('location')!);
  assert.is(object.status, 200);
  assert.ok((await object.arrayBuffer()).byteLength > 100);
});

s3.run();

// its own service: an API with TRANSCODE_IN_API=false leaves the jobs to a worker (transcoder/worker.ts, what
// server/worker.ts runs) on the same database
const apart = suite<{ api: TestApi }>('vod transcode in a worker (TRANSCODE_IN_API=false)');
apart.before(async (ctx) => {
  ctx.api = await startTestApi({ TRANSCODE_IN_API: 'false', JOBS_POLL_MS: '200' });
});
apart.after(async ({ api }) => api?.stop());

apart('the API runs no transcoder; a worker claims the job, and its close() is idempotent and leaves no FFmpeg', async ({ api }) => {
  assert.is(api.transcoder, undefined);
  const { id } = await seedRecording(api, await recordingFiles('320x240', 3));
  await api.jobs.enqueue('vod.transcode', `vod.transcode:${id}`, { vodId: id });
  await sleep(1000);
  assert.equal((await rowOf(api, id)).renditions, [], 'nobody ran it');
  const worker = await startWorker(api.config, { log: createLogger('silent'), database: api.deps.database });
  try {
    assert.equal((await ladderDone(api, id, 60_000)).map((r) => r.name), ['240p', 'audio']);
  } finally {
    await Promise.all([worker.close(), worker.close()]);
  }
  assert.is(worker.transcoder.pids().length, 0);
});

apart.run();
