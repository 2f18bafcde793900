// Glint killed -9 mid-broadcast (on embedded defaults the SFU and the recorder die with it): what was recorded stays,
// and the next start finalizes it into a playable VoD. No FFmpeg outlives the killed process for long: the
// recorder's stops one second after its RTP does.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '../helpers/api.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { startProcess, waitForHttp, type Child } from '../helpers/process.ts';
import { publish, until } from '../helpers/webrtc.ts';

const SERVER = '.build/api.mjs';
const t = suite('recorder: Glint killed mid-broadcast');

async function start(dataDir: string, port: number): Promise<Child> {
  const child = startProcess(process.execPath, [SERVER], {
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '', REDIS_URL: '', RTMP_PORT: '0' },
  });
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, child);
  return child;
}

const ffmpegsUnder = async (dir: string) =>
  (await promisify(execFile)('pgrep', ['-f', `ffmpeg.*${dir}`]).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);

t('kill -9 while recording → the next start lists the recording as a finished, playable VoD', async () => {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: npm test builds it (npm run build)`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'glint-crash-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const browser = await launchBrowser({ fakeMedia: true });
  let app = await start(dataDir, port);
  try {
    const signUp = await fetch(`${base}/api/auth/sign-up/email`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ name: 'Crash', email: 'crash@example.test', password: 'crash password 1' }) });
    assert.is(signUp.status, 200);
    const cookie = signUp.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const post = (p: string, body: unknown) => fetch(base + p, { method: 'POST', headers: { 'content-type': 'application/json', cookie, origin: base }, body: JSON.stringify(body) });
    assert.is((await post('/api/channels', { slug: 'crashy', title: 'Crashy' })).status, 201);
    const key = (await (await post('/api/channels/crashy/stream-keys', { label: 'x' })).json()).key;

    const page = await browser.context.newPage();
    await page.goto(base + '/healthz');
    assert.is((await publish(page, { slug: 'crashy', key, codec: 'H264' })).status, 201);
    await new Promise((r) => setTimeout(r, 8000));
    assert.ok((await ffmpegsUnder(dataDir)).length >= 1, 'recording');
    app.proc.kill('SIGKILL');
    await new Promise<void>((resolve) => app.proc.once('exit', () => resolve()));
    await page.close();
    const left = await until(() => ffmpegsUnder(dataDir), (pids) => pids.length === 0, 5000);
    assert.equal(left, [], 'the orphaned recording FFmpeg ended by itself');

    app = await start(dataDir, port);
    const vods = (await (await fetch(`${base}/api/channels/crashy/vods`)).json()).items;
    assert.is(vods.length, 1);
    assert.is(vods[0].status, 'ready', 'finalized at start');
    assert.ok(vods[0].durationSeconds >= 4, `kept ${vods[0].durationSeconds} s of ~8 s`);
    const text = await (await fetch(base + vods[0].playlistUrl)).text();
    assert.match(text, /#EXT-X-ENDLIST/);
    const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', base + vods[0].playlistUrl]);
    assert.equal([...new Set(stdout.split('\n').map((l) => l.trim()).filter(Boolean))].sort(), ['audio', 'video']);
    const live = (await (await fetch(`${base}/api/channels/crashy`)).json()).live;
    assert.is(live, null, 'the broadcast is not shown live after the restart');
  } finally {
    await app.stop();
    await browser.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

t.run();
