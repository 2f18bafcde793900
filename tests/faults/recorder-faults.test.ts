// The recorder as its own service (RECORDER_EMBEDDED=false, Redis bus, PostgreSQL) killed -9 mid-broadcast, and the
// API it records from killed -9 mid-broadcast. Both run as child processes from the build (.build/api.mjs,
// .build/recorder.mjs) on one data directory, the local media store. What must hold:
// - the recorder killed: the SFU stops hearing its heartbeat and detaches it; restarted, it records on into the same
//   VoD after a discontinuity, and nothing stored before the kill is lost;
// - the API killed and restarted: the recorder's sessions end (the restarted SFU ended them in the database) and it
//   stops restarting FFmpeg for a broadcast that no longer exists; the VoD is ready.
// - the recorder cut off from Redis: the SFU detaches it too; its heartbeat, heard again, has it attach again.
// Times to recover are printed (docs/benchmarks.md, faults).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlaylist } from '../../recorder/hls.ts';
import { channelWithKey, Client, freePort, freshDatabase, LOOSE_LIMITS } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { OpenApiChecker } from '../helpers/openapi.ts';
import { startProcess, waitForHttp, type Child } from '../helpers/process.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { checkPlaylistUrl, decodeWhole, downloadParts } from '../helpers/vod-check.ts';
import { publish, unpublish, until } from '../helpers/webrtc.ts';

const API = '.build/api.mjs';
const RECORDER = '.build/recorder.mjs';
const REDIS_URL = process.env.GLINT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Ctx = { db: Awaited<ReturnType<typeof freshDatabase>>; dataDir: string; port: number; base: string; env: NodeJS.ProcessEnv; api: Child; recorder: Child; browser: Browser; owner: Client; redisProxy: TcpProxy; recorderRedis: string };
const t = suite<Ctx>('faults: the recorder service and the API killed -9 mid-broadcast');

async function startApi(ctx: Ctx): Promise<Child> {
  const child = startProcess(process.execPath, [API], { env: { ...ctx.env, PORT: String(ctx.port), RECORDER_EMBEDDED: 'false', LOG_LEVEL: 'warn', RTMP_PORT: '0', RTC_PORT: '0', ...LOOSE_LIMITS } });
  await waitForHttp(`${ctx.base}/healthz`, 60_000, child);
  return child;
}

async function startRecorder(ctx: Ctx): Promise<Child> {
  const child = startProcess(process.execPath, [RECORDER], { env: { ...ctx.env, REDIS_URL: ctx.recorderRedis, RECORDER_RTP_HOST: '127.0.0.1', LOG_LEVEL: 'info' } });
  await until(async () => child.output(), (out) => out.includes('recorder ready') || child.proc.exitCode !== null, 60_000);
  assert.match(child.output(), /recorder ready/, child.output());
  return child;
}

async function kill9(child: Child) {
  const exited = new Promise<void>((resolve) => child.proc.once('exit', () => resolve()));
  child.proc.kill('SIGKILL');
  await exited;
}

/** FFmpeg processes recording into this data directory (whichever process started them). */
const ffmpegs = async (dataDir: string) =>
  (await promisify(execFile)('pgrep', ['-f', `ffmpeg.*${path.join(dataDir, 'recorder')}`]).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);

/** The stored playlist of a VoD (the local media store) and the segments it names. */
async function stored(ctx: Ctx, vodId: string): Promise<{ text: string; segments: string[] }> {
  const text = await readFile(path.join(ctx.dataDir, 'media', 'vod', vodId, 'index.m3u8'), 'utf8').catch(() => '');
  return { text, segments: parsePlaylist(text).segments.map((s) => s.uri) };
}

/** Both services up (a test that failed half-way may have left one killed): tests do not depend on each other. */
async function ensureRunning(ctx: Ctx) {
  const down = (c: Child) => c.proc.exitCode !== null || c.proc.signalCode !== null;
  if (down(ctx.api)) ctx.api = await startApi(ctx);
  if (down(ctx.recorder)) ctx.recorder = await startRecorder(ctx);
}

async function broadcast(ctx: Ctx, slug: string) {
  await ensureRunning(ctx);
  const key = await channelWithKey(ctx.owner, slug);
  const page = await ctx.browser.context.newPage();
  await page.goto(ctx.base + '/healthz');
  const p = await publish(page, { slug, key, codec: 'VP8' });
  assert.is(p.status, 201, p.body);
  const list = await until(() => ctx.owner.get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'recording', 20_000);
  assert.is(list.body.items?.[0]?.status, 'recording', ctx.recorder.output());
  return { page, vodId: list.body.items[0].id as string };
}

t.before(async (ctx) => {
  for (const f of [API, RECORDER]) if (!existsSync(f)) throw new Error(`${f} is missing: npm test builds it (npm run build)`);
  ctx.db = await freshDatabase('postgres');
  ctx.dataDir = await mkdtemp(path.join(os.tmpdir(), 'glint-rec-faults-'));
  ctx.port = await freePort();
  ctx.base = `http://127.0.0.1:${ctx.port}`;
  // the recorder reaches Redis through a proxy a test can cut (the API reaches it directly)
  const redis = new URL(REDIS_URL);
  ctx.redisProxy = new TcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
  redis.hostname = '127.0.0.1';
  redis.port = String(await ctx.redisProxy.listen());
  ctx.recorderRedis = redis.toString();
  ctx.env = { ...process.env, NODE_ENV: 'test', DATA_DIR: ctx.dataDir, DATABASE_URL: ctx.db.url!, REDIS_URL, REDIS_PREFIX: `glint-test-${process.pid}-faults:` };
  ctx.api = await startApi(ctx);
  ctx.recorder = await startRecorder(ctx);
  ctx.owner = await new Client(ctx.base, await OpenApiChecker.load(ctx.base)).signUp('Faulty');
  ctx.browser = await launchBrowser({ fakeMedia: true });
});
t.after(async (ctx) => {
  ctx.redisProxy?.restore();
  await ctx.browser?.close();
  await ctx.recorder?.stop();
  await ctx.redisProxy?.close();
  await ctx.api?.stop();
  await until(() => ffmpegs(ctx.dataDir), (p) => p.length === 0, 10_000).catch(() => undefined);
  await ctx.db?.drop();
  if (ctx.dataDir) await rm(ctx.dataDir, { recursive: true, force: true });
});

t('recorder killed -9 mid-broadcast: the SFU detaches it; restarted, it records on into the same VoD after a discontinuity, nothing lost', async (ctx) => {
  const slug = 'rec-killed';
  const { page, vodId } = await broadcast(ctx, slug);
  try {
    await until(() => stored(ctx, vodId), (s) => s.segments.length >= 3, 30_000);
    await kill9(ctx.recorder);
    const killedAt = Date.now();
    const before = (await stored(ctx, vodId)).segments;
    assert.ok(before.length >= 3, `${before.length} segments stored before the kill`);

    // no heartbeat: the SFU closes the dead recorder's consumers and plain transports
    await until(async () => ctx.api.output(), (out) => out.includes('the recorder went away; detaching it'), 30_000);
    assert.match(ctx.api.output(), /the recorder went away; detaching it/);
    const detachMs = Date.now() - killedAt;

    const restartedAt = Date.now();
    ctx.recorder = await startRecorder(ctx);
    // segments after the discontinuity are the new FFmpeg's (the orphan may have finished a few more before that)
    const afterBreak = (text: string) => {
      const at = text.lastIndexOf('#EXT-X-DISCONTINUITY');
      return at > text.indexOf(`${before.at(-1)}\n`) ? parsePlaylist(text.slice(at)).segments.length : 0;
    };
    const grown = await until(() => stored(ctx, vodId), (s) => afterBreak(s.text) >= 3, 60_000);
    const recoverMs = Date.now() - restartedAt;
    assert.ok(afterBreak(grown.text) >= 3, `recording on after a discontinuity:\n${grown.text}\n${ctx.recorder.output()}`);
    assert.equal(grown.segments.slice(0, before.length), before, 'everything stored before the kill is still there, first');
    const vods = (await ctx.owner.get(`/api/channels/${slug}/vods`)).body.items;
    assert.equal(vods.map((v: { id: string }) => v.id), [vodId], 'the same VoD, no second one');
    // the FFmpeg the killed recorder left behind has ended: one writer
    const left = await until(() => ffmpegs(ctx.dataDir), (p) => p.length === 1, 15_000);
    assert.is(left.length, 1, `FFmpeg processes: ${left}`);

    assert.is(await unpublish(page), 200);
    const ready = await until(() => ctx.owner.get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'ready', 30_000);
    const v = ready.body.items[0];
    assert.is(v?.status, 'ready', ctx.recorder.output());
    const { text, problems } = await checkPlaylistUrl(ctx.base + v.playlistUrl, { ended: true });
    assert.equal(problems, []);
    assert.equal(parsePlaylist(text).segments.map((s) => s.uri).slice(0, before.length), before);
    // each part (before the kill, after the restart) decodes with zero errors, and time goes on across the
    // discontinuity: the new FFmpeg's first segment starts after the last one before it ends
    const copy = await mkdtemp(path.join(os.tmpdir(), 'glint-rec-faults-copy-'));
    try {
      const parts = await downloadParts(ctx.base + v.playlistUrl, copy);
      assert.ok(parts.length >= 2, `${parts.length} parts`);
      for (const part of parts) {
        const decoded = await decodeWhole(part, { variableFrameRate: true });
        assert.equal(decoded.errors, [], `${path.basename(part)} decodes with zero errors`);
        assert.equal(decoded.streams, ['audio:aac', 'video:h264']);
      }
      const segmentsOf = async (file: string) => parsePlaylist(await readFile(file, 'utf8')).segments.map((s) => path.join(copy, s.uri));
      const lastBefore = (await segmentsOf(parts.at(-2)!)).at(-1)!;
      const firstAfter = (await segmentsOf(parts.at(-1)!))[0]!;
      const [ended, started] = await Promise.all([lastBefore, firstAfter].map(async (f) => {
        const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-show_entries', 'format=start_time,duration', '-of', 'json', f]);
        const { format } = JSON.parse(stdout) as { format: { start_time: string; duration: string } };
        return { start: Number(format.start_time), end: Number(format.start_time) + Number(format.duration) };
      }));
      assert.ok(started!.start > ended!.end, `the resumed part starts at ${started!.start} s, after ${ended!.end} s`);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
    console.log(`recorder kill -9: SFU detached it after ${detachMs} ms; restarted recorder stored its 3rd new segment ${recoverMs} ms after start; ${parsePlaylist(text).segments.length} segments, ${before.length} from before the kill, 0 lost`);
  } finally {
    await page.close();
  }
});

t('API killed -9 mid-broadcast and restarted: the recorder ends the session (no FFmpeg restarting for it) and the VoD is ready', async (ctx) => {
  const slug = 'api-killed';
  const { page, vodId } = await broadcast(ctx, slug);
  await until(() => stored(ctx, vodId), (s) => s.segments.length >= 2, 30_000);
  await kill9(ctx.api);
  await page.close();
  const before = (await stored(ctx, vodId)).segments;
  // the recorder cannot tell yet: its FFmpeg waits for media (restarting as its input idles out)
  await sleep(8000);
  const restartedAt = Date.now();
  ctx.api = await startApi(ctx);
  const ready = await until(() => ctx.owner.get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'ready', 30_000);
  const readyMs = Date.now() - restartedAt;
  const v = ready.body.items[0];
  assert.is(v?.status, 'ready', ctx.recorder.output());
  assert.is(v.id, vodId);
  // bounded: no FFmpeg records into the data directory any more, and none starts again
  await until(() => ffmpegs(ctx.dataDir), (p) => p.length === 0, 10_000);
  for (let i = 0; i < 10; i++) {
    assert.equal(await ffmpegs(ctx.dataDir), [], `no FFmpeg respawned for the ended broadcast\n${ctx.recorder.output()}`);
    await sleep(500);
  }
  const { text, problems } = await checkPlaylistUrl(ctx.base + v.playlistUrl, { ended: true });
  assert.equal(problems, []);
  assert.equal(parsePlaylist(text).segments.map((s) => s.uri).slice(0, before.length), before, 'everything stored before the kill is in the VoD');
  const decoded = await decodeWhole(ctx.base + v.playlistUrl, { variableFrameRate: true });
  assert.equal(decoded.errors, [], 'decodes whole with zero errors');
  console.log(`API kill -9 (separate recorder): VoD ready and recorder FFmpeg gone ${readyMs} ms after the API restarted; ${parsePlaylist(text).segments.length} segments, 0 lost`);
});

t('the recorder cut off from Redis for 15 s: the SFU detaches it; reconnected, its heartbeat has it attach again and the VoD goes on', async (ctx) => {
  const slug = 'rec-cut-off';
  const { page, vodId } = await broadcast(ctx, slug);
  try {
    const first = await until(() => stored(ctx, vodId), (s) => s.segments.length >= 2, 30_000);
    assert.ok(first.segments.length >= 2, `recording before the cut\n${ctx.api.output()}\n${ctx.recorder.output()}`);
    const logged = ctx.api.output().split('the recorder went away; detaching it').length;
    ctx.redisProxy.cut();
    await until(async () => ctx.api.output(), (out) => out.split('the recorder went away; detaching it').length > logged, 30_000);
    assert.ok(ctx.api.output().split('the recorder went away; detaching it').length > logged, 'the SFU detached the silent recorder');
    await sleep(5000); // ~15 s cut in all: the detach alone takes 10–12 s
    const before = (await stored(ctx, vodId)).segments;
    ctx.redisProxy.restore();
    const restoredAt = Date.now();
    const grown = await until(() => stored(ctx, vodId), (s) => s.segments.length >= before.length + 3, 60_000);
    const recoverMs = Date.now() - restoredAt;
    assert.ok(grown.segments.length >= before.length + 3, `recording on: ${grown.segments.length} segments, ${before.length} before\n${ctx.recorder.output()}`);
    assert.equal(grown.segments.slice(0, before.length), before);
    assert.is(await unpublish(page), 200);
    const ready = await until(() => ctx.owner.get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'ready', 30_000);
    assert.is(ready.body.items[0]?.id, vodId, 'one VoD');
    const { problems } = await checkPlaylistUrl(ctx.base + ready.body.items[0].playlistUrl, { ended: true });
    assert.equal(problems, []);
    console.log(`recorder cut off from Redis: attached again and its 3rd new segment stored ${recoverMs} ms after Redis was back`);
  } finally {
    ctx.redisProxy.restore();
    await page.close();
  }
});

t.run();
