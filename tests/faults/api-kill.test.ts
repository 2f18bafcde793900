// Glint on embedded defaults (SFU and recorder in the API process) killed -9 mid-broadcast of a Chromium WHIP (VP8)
// publisher. After a restart the VoD holds every segment stored before the kill — and those FFmpeg had finished in
// the work directory but the uploader had not copied yet — is ready with #EXT-X-ENDLIST, decodes whole with zero
// errors, and the killed run's work directory is gone. The time from the restart to a ready VoD is printed
// (docs/benchmarks.md, faults).
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlaylist } from '../../recorder/hls.ts';
import { channelWithKey, Client, freePort, LOOSE_LIMITS } from '../helpers/api.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { OpenApiChecker } from '../helpers/openapi.ts';
import { startProcess, waitForHttp, type Child } from '../helpers/process.ts';
import { checkPlaylistUrl, decodeWhole } from '../helpers/vod-check.ts';
import { publish, until } from '../helpers/webrtc.ts';

const SERVER = '.build/api.mjs';
const t = suite('faults: Glint (embedded SFU + recorder) killed -9 mid-broadcast');

async function start(dataDir: string, port: number): Promise<Child> {
  const child = startProcess(process.execPath, [SERVER], {
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '', REDIS_URL: '', RTMP_PORT: '0', RTC_PORT: '0', ...LOOSE_LIMITS },
  });
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, child);
  return child;
}

t('kill -9 mid-broadcast → after a restart the VoD holds every segment recorded before the kill, ready, and decodes whole', async () => {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: npm test builds it (npm run build)`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'glint-api-kill-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const browser = await launchBrowser({ fakeMedia: true });
  let app = await start(dataDir, port);
  try {
    const owner = await new Client(base, await OpenApiChecker.load(base)).signUp('Killed');
    const slug = 'killed';
    const key = await channelWithKey(owner, slug);
    const page = await browser.context.newPage();
    await page.goto(base + '/healthz');
    assert.is((await publish(page, { slug, key, codec: 'VP8' })).status, 201);
    const list = await until(() => owner.get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'recording', 20_000);
    const vodId: string = list.body.items[0].id;
    const storedDir = path.join(dataDir, 'media', 'vod', vodId);
    const workDir = path.join(dataDir, 'recorder', vodId);
    const storedSegments = async () => parsePlaylist(await readFile(path.join(storedDir, 'index.m3u8'), 'utf8').catch(() => '')).segments.map((s) => s.uri);
    await until(storedSegments, (s) => s.length >= 4, 30_000);

    app.proc.kill('SIGKILL');
    await new Promise<void>((resolve) => app.proc.once('exit', () => resolve()));
    await page.close();
    const stored = await storedSegments();
    // what FFmpeg had finished (and listed) in the work directory, stored or not
    const recorded = parsePlaylist(await readFile(path.join(workDir, 'index.m3u8'), 'utf8')).segments.map((s) => s.uri);
    assert.ok(stored.length >= 4, `${stored.length} segments stored before the kill`);

    const restartedAt = Date.now();
    app = await start(dataDir, port);
    const ready = await until(() => owner.get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'ready', 30_000);
    const readyMs = Date.now() - restartedAt;
    const v = ready.body.items[0];
    assert.is(v?.status, 'ready', 'finalized at start');
    assert.is(v.id, vodId);
    const { text, problems } = await checkPlaylistUrl(base + v.playlistUrl, { ended: true });
    assert.equal(problems, []);
    const inVod = parsePlaylist(text).segments.map((s) => s.uri);
    for (const seg of new Set([...stored, ...recorded])) assert.ok(inVod.includes(seg), `${seg}, recorded before the kill, is in the VoD`);
    const decoded = await decodeWhole(base + v.playlistUrl, { variableFrameRate: true });
    assert.equal(decoded.errors, [], 'decodes whole with zero errors');
    assert.equal(decoded.streams, ['audio:aac', 'video:h264']);
    assert.ok(decoded.durationSeconds >= stored.length * 1.5, `${decoded.durationSeconds} s for ${inVod.length} segments`);
    assert.not.ok(existsSync(workDir), `the killed run's work directory is gone once stored (left: ${existsSync(workDir) ? await readdir(workDir) : ''})`);
    assert.is((await owner.get(`/api/channels/${slug}`)).body.live, null, 'not shown live after the restart');
    console.log(`api kill -9 (embedded): VoD ready ${readyMs} ms after the restart; ${inVod.length} segments (${stored.length} stored, ${recorded.length} recorded before the kill), 0 lost`);
  } finally {
    await app.stop();
    await browser.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

t.run();
