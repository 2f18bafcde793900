// The object store away for 30 s in the middle of a recording — and when the broadcast ends. The API reaches
// s3rver (an S3-protocol server from npm, standing in for MinIO) through a TCP proxy this test cuts and restores.
// Nothing recorded is lost: uploads are retried with backoff, the VoD stays `recording` (and its work directory on
// disk) until every segment and the final playlist are stored, and is complete and decodes whole once S3 is back.
// The time from restore to the VoD being ready is printed (docs/benchmarks.md, faults).
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlaylist } from '../../recorder/hls.ts';
import { S3Store } from '../../shared/storage.ts';
import { channelWithKey, startTestApi, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { capturingLogger, type LogLine } from '../helpers/log.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { checkPlaylistUrl, decodeWhole, downloadParts } from '../helpers/vod-check.ts';
import { publish, unpublish, until } from '../helpers/webrtc.ts';

type Ctx = { api: TestApi; browser: Browser; s3: S3rver; direct: S3Store; proxy: TcpProxy; dir: string; lines: LogLine[] };
const t = suite<Ctx>('object store (s3rver) unavailable for 30 s during a recording');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.before(async (ctx) => {
  ctx.dir = await mkdtemp(path.join(os.tmpdir(), 'glint-s3-down-'));
  ctx.s3 = new S3rver({ port: 0, address: '127.0.0.1', directory: ctx.dir, silent: true });
  const { port } = await ctx.s3.run();
  ctx.proxy = new TcpProxy({ host: '127.0.0.1', port });
  const via = await ctx.proxy.listen();
  const creds = { accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1', bucket: 'glint' };
  const { log, lines } = capturingLogger('info');
  ctx.lines = lines;
  ctx.api = await startTestApi({ S3_ENDPOINT: `http://127.0.0.1:${via}`, S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER', S3_BUCKET: creds.bucket }, { log });
  assert.is(ctx.api.deps.store.kind, 's3');
  // the test's own view of the bucket, around the proxy
  ctx.direct = await S3Store.open({ endpoint: `http://127.0.0.1:${port}`, ...creds });
  ctx.browser = await launchBrowser({ fakeMedia: true });
});
t.after(async (ctx) => {
  ctx.proxy?.restore();
  await ctx.browser?.close();
  await ctx.api?.stop();
  await ctx.proxy?.close();
  await ctx.s3?.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

t('S3 cut for 30 s mid-broadcast and at its end: nothing lost, local files kept until stored, the VoD complete once S3 is back', async ({ api, browser, direct, proxy, lines }) => {
  const owner = await api.client().signUp('S3 Down');
  const slug = 's3-down';
  const key = await channelWithKey(owner, slug);
  const page = await browser.context.newPage();
  await page.goto(api.base + '/healthz');
  const p = await publish(page, { slug, key, codec: 'VP8' });
  assert.is(p.status, 201, p.body);
  const listed = await until(() => api.client().get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'recording', 15_000);
  const vodId: string = listed.body.items[0].id;
  const prefix = `vod/${vodId}/`;
  const workDir = path.join(api.config.dataDir, 'recorder', vodId);
  const storedSegments = async () => (await direct.list(prefix)).filter((k) => k.endsWith('.ts'));
  await until(storedSegments, (keys) => keys.length >= 2, 20_000);

  proxy.cut();
  const cutAt = Date.now();
  const atCut = (await storedSegments()).length;
  await sleep(15_000);
  // the broadcast ends while S3 is still away: its last uploads must wait, not vanish
  assert.is(await unpublish(page), 200);
  await page.close();
  await sleep(30_000 - (Date.now() - cutAt));
  const during = await api.client().get(`/api/channels/${slug}/vods`);
  assert.is(during.body.items[0]?.status, 'recording', 'not ready before it is stored');
  assert.ok(existsSync(workDir), 'the local files are kept while S3 is away');
  const onDisk = (await readdir(workDir)).filter((f) => /^seg-\d+\.ts$/.test(f)).sort();
  assert.ok(onDisk.length >= atCut + 5, `recorded on during the cut: ${onDisk.length} segments on disk, ${atCut} stored at the cut`);
  assert.is((await storedSegments()).length, atCut, 'nothing reached S3 while it was cut');
  assert.ok(lines.some((l) => l.msg === 'recording upload failed; will retry'), 'the failed uploads were logged');

  proxy.restore();
  const restoredAt = Date.now();
  const ready = await until(() => api.client().get(`/api/channels/${slug}/vods`), (r) => r.body.items?.[0]?.status === 'ready', 60_000);
  const recoverMs = Date.now() - restoredAt;
  const v = ready.body.items[0];
  assert.is(v?.status, 'ready');

  const { text, problems } = await checkPlaylistUrl(api.base + v.playlistUrl, { ended: true });
  assert.equal(problems, []);
  const inPlaylist = parsePlaylist(text).segments.map((s) => s.uri);
  for (const seg of onDisk) assert.ok(inPlaylist.includes(seg), `${seg}, recorded while S3 was away, is in the VoD`);
  const stored = (await storedSegments()).map((k) => k.slice(prefix.length));
  for (const seg of inPlaylist) assert.ok(stored.includes(seg), `${seg} is stored`);
  const copy = await mkdtemp(path.join(os.tmpdir(), 'glint-s3-down-copy-'));
  // copied first: served from S3, segments redirect to the bucket's origin, and FFmpeg's HLS reader warns on every one
  // that it cannot reuse its connection there (no media problem)
  const parts = await downloadParts(api.base + v.playlistUrl, copy);
  const decoded = await decodeWhole(parts[0]!, { variableFrameRate: true }).finally(() => rm(copy, { recursive: true, force: true }));
  assert.is(parts.length, 1, 'one part: S3 away costs no discontinuity');
  assert.equal(decoded.errors, [], 'decodes whole with zero errors');
  assert.ok(decoded.durationSeconds >= 18, `${decoded.durationSeconds} s recorded (~${15 + atCut * 2} s published)`);
  assert.equal(decoded.streams, ['audio:aac', 'video:h264']);
  await until(async () => existsSync(workDir), (exists) => !exists, 10_000);
  assert.not.ok(existsSync(workDir), 'the local files go once stored');
  console.log(`storage-down: S3 cut 30 s; VoD ready ${recoverMs} ms after restore; ${inPlaylist.length} segments, ${decoded.durationSeconds.toFixed(1)} s, 0 lost`);
});

t.run();
