// The recorder as its own service, as docker-compose runs it: the API (with its SFU) started with
// RECORDER_EMBEDDED=false, the recorder a separate process (.build/recorder.mjs) on the same PostgreSQL and Redis.
// A Chromium broadcast is recorded by that process — asked for over Redis, RTP to RECORDER_RTP_HOST — and served by
// the API as a VoD.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runningRecorders } from '../../recorder/Recording.ts';
import { channelWithKey, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { startProcess, type Child } from '../helpers/process.ts';
import { publish, unpublish, until } from '../helpers/webrtc.ts';

const RECORDER = '.build/recorder.mjs';
const REDIS_URL = process.env.GLINT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
type Ctx = { api: TestApi; owner: Client; browser: Browser; recorder: Child; prefix: string };
const t = suite<Ctx>('recorder as its own service (Redis bus, PostgreSQL)');

const recorderEnv = (ctx: Ctx, extra: Record<string, string> = {}) => ({
  ...process.env,
  NODE_ENV: 'test',
  DATA_DIR: ctx.api.config.dataDir, // the same disk as the API: its local media store serves what is recorded
  DATABASE_URL: ctx.api.databaseUrl!,
  REDIS_URL,
  REDIS_PREFIX: ctx.prefix,
  RECORDER_RTP_HOST: 'localhost', // a name, resolved by the recorder (docker-compose uses the service name)
  LOG_LEVEL: 'info',
  ...extra,
});

t.before(async (ctx) => {
  if (!existsSync(RECORDER)) throw new Error(`${RECORDER} is missing: npm test builds it (npm run build)`);
  ctx.prefix = `glint-test-${process.pid}:`;
  ctx.api = await startTestApi({ RECORDER_EMBEDDED: 'false', REDIS_URL, REDIS_PREFIX: ctx.prefix }, { db: 'postgres' });
  ctx.owner = await ctx.api.client().signUp('Separate');
  ctx.browser = await launchBrowser({ fakeMedia: true });
  ctx.recorder = startProcess(process.execPath, [RECORDER], { env: recorderEnv(ctx) });
  await until(async () => ctx.recorder.output(), (out) => out.includes('recorder ready') || ctx.recorder.proc.exitCode !== null, 30_000);
  assert.match(ctx.recorder.output(), /recorder ready/, ctx.recorder.output());
});
t.after(async (ctx) => {
  await ctx.recorder?.stop();
  await ctx.browser?.close();
  await ctx.api?.stop();
});

t('the recorder refuses to start without Redis and PostgreSQL, saying why', async () => {
  const r = await promisify(execFile)(process.execPath, [RECORDER], { env: { ...process.env, DATABASE_URL: '', REDIS_URL: '' } }).catch((e) => e);
  assert.is(r.code, 2);
  assert.match(r.stderr, /REDIS_URL.*DATABASE_URL/);
});

t('a broadcast is recorded by the separate recorder and played from the API', async ({ api, owner, browser, recorder }) => {
  assert.is(api.recorder, undefined, 'the API process does not record');
  const slug = 'separate';
  const key = await channelWithKey(owner, slug, 'Recorded elsewhere');
  const page = await browser.context.newPage();
  try {
    await page.goto(api.base + '/healthz');
    const p = await publish(page, { slug, key, codec: 'H264' });
    assert.is(p.status, 201, p.body);
    const during = await until(() => owner.get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'recording', 10_000);
    assert.is(during.body.items[0]?.status, 'recording', recorder.output());
    await new Promise((r) => setTimeout(r, 8000));
    assert.equal(runningRecorders(), [], 'no recording FFmpeg in the API process');
    const { stdout } = await promisify(execFile)('pgrep', ['-P', String(recorder.proc.pid), 'ffmpeg']).catch(() => ({ stdout: '' }));
    assert.ok(stdout.trim(), 'the recorder process runs the FFmpeg');
    await unpublish(page);
    const list = await until(() => owner.get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'ready', 10_000);
    const v = list.body.items[0];
    assert.is(v?.status, 'ready', recorder.output());
    assert.ok(v.durationSeconds >= 6, `${v.durationSeconds} s of ~8 s`);
    const probe = await promisify(execFile)('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', api.base + v.playlistUrl]);
    assert.equal([...new Set(probe.stdout.split('\n').map((l) => l.trim()).filter(Boolean))].sort(), ['aac', 'h264']);
  } finally {
    await page.close();
  }
});

t('the recorder stops cleanly on SIGTERM', async ({ recorder }) => {
  const code = new Promise<number | null>((resolve) => recorder.proc.once('exit', (c) => resolve(c)));
  recorder.proc.kill('SIGTERM');
  assert.is(await Promise.race([code, new Promise((r) => setTimeout(() => r('still running'), 10_000))]), 0);
});

t.run();
