// @db-matrix @runtime-matrix
// Resumable uploads over tus (api/uploads.ts) with tus-js-client from Node, of real files FFmpeg makes here: an upload
// interrupted halfway resumes at its offset and stores the source byte for byte, becomes a VoD in 'processing' with a
// 'vod.transcode' job; quotas are checked at creation (nothing stored); a PDF named .mp4, an empty file, a truncated
// MP4, an audio-only file, a video in an unknown codec and a too-long video are each refused with their reason, leaving no VoD, job or bytes; no
// session → 401, another's channel → 403, another's upload → 404; termination and expiry remove what was sent. The
// S3 path runs against s3rver (an npm S3 server standing in for MinIO/S3).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { desc, eq } from 'drizzle-orm';
import http from 'node:http';
import S3rver from 's3rver';
import * as tus from 'tus-js-client';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { job, upload as uploadTable, vod } from '../../shared/db/index.ts';
import { uploadInput } from '../../api/uploads.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { s3MultipartShim } from '../helpers/s3-multipart-shim.ts';
import { send } from '../helpers/tus.ts';

type Media = Awaited<ReturnType<typeof makeMedia>>;
type Ctx = { api: TestApi; dir: string; owner: Client; stranger: Client; media: Media };
const t = suite<Ctx>('uploads (tus)');

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');
const ffmpeg = (args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });

/** The test media: a few seconds of video+audio (no faststart and faststart), and the refusals' files. */
async function makeMedia(dir: string) {
  const f = (n: string) => path.join(dir, n);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-shortest', f('video.mp4')]);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-movflags', '+faststart', f('faststart.mp4')]);
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '3', '-c:a', 'aac', f('audio.m4a')]);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=5', '-t', '8', '-c:v', 'libx264', '-preset', 'ultrafast', f('long.mp4')]);
  const whole = await readFile(f('faststart.mp4'));
  // faststart: the index is at the front, so ffprobe reads it; the end is gone
  await writeFile(f('truncated.mp4'), whole.subarray(0, Math.floor(whole.length * 0.6)));
  const plain = await readFile(f('video.mp4'));
  await writeFile(f('no-index.mp4'), plain.subarray(0, Math.floor(plain.length / 2)));
  await writeFile(f('document.mp4'), `%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n${'stream data '.repeat(2000)}\n%%EOF\n`);
  await writeFile(f('empty.mp4'), new Uint8Array(0));
  // a Matroska file whose video track names a codec no one knows (its CodecID rewritten, same length: still valid EBML)
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', f('known.mkv')]);
  const mkv = await readFile(f('known.mkv'));
  const at = mkv.indexOf('V_MPEG4/ISO/AVC');
  if (at < 0) throw new Error('no CodecID in the Matroska file');
  mkv.write('V_GLINT/NO/SUCH', at);
  await writeFile(f('unknown-codec.mkv'), mkv);
  return { unknownCodec: f('unknown-codec.mkv'), video: f('video.mp4'), faststart: f('faststart.mp4'), audio: f('audio.m4a'), long: f('long.mp4'), truncated: f('truncated.mp4'), noIndex: f('no-index.mp4'), pdf: f('document.mp4'), empty: f('empty.mp4') };
}

const cookieOf = (c: Client) => [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
const idOf = (url: string | null) => (url ?? '').split('/').at(-1)!;
const uploadsDir = (api: TestApi) => api.config.uploads.dir;
const storedFiles = async (api: TestApi) => (await readdir(uploadsDir(api)).catch(() => [] as string[])).sort();
/** tus creation (POST) only: an upload of `length` declared bytes, nothing sent */
const createUpload = (api: TestApi, owner: Client, channel: string, length: number) =>
  fetch(`${api.base}/api/uploads`, {
    method: 'POST',
    headers: {
      origin: api.base,
      cookie: cookieOf(owner),
      'tus-resumable': '1.0.0',
      'upload-length': String(length),
      'upload-metadata': `channel ${btoa(channel)},filename ${btoa('big.mp4')}`,
    },
  });

t.before(async (ctx) => {
  ctx.dir = await mkdtemp(path.join(os.tmpdir(), 'glint-uploads-'));
  ctx.media = await makeMedia(ctx.dir);
  ctx.api = await startTestApi({ UPLOAD_MAX_DURATION_SECONDS: '6', UPLOAD_QUOTA_BYTES: String(5 * 1024 * 1024), UPLOAD_EXPIRE_HOURS: '0.002' });
  ctx.owner = await ctx.api.client().signUp('Uploader');
  assert.is((await ctx.owner.post('/api/channels', { slug: 'films', title: 'Films' })).status, 201);
  ctx.stranger = await ctx.api.client().signUp('Stranger');
  assert.is((await ctx.stranger.post('/api/channels', { slug: 'elsewhere', title: 'Elsewhere' })).status, 201);
});
t.after(async (ctx) => {
  await ctx.api?.stop();
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
});

t('GET /api/config tells the web client the chunk size and the largest file', async ({ api }) => {
  const r = await api.client().get('/api/config');
  assert.is(r.body.uploadChunkBytes, 50 * 1024 * 1024);
  assert.is(r.body.uploadMaxFileBytes, 20 * 1024 ** 3);
});

t('an upload interrupted halfway resumes at its offset and the stored file is byte-identical; it becomes a processing VoD with a transcode job', async ({ api, owner, media }) => {
  const size = (await stat(media.video)).size;
  const first = await send(api.base, owner, media.video, { channel: 'films', abortAt: size / 2, title: 'My film' });
  assert.ok(first.url, 'the upload has a URL');
  assert.is(first.vodId, null, 'not finished');
  const half = Math.max(...first.offsets) + 64 * 1024;
  const head = await fetch(first.url!, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0', cookie: [...owner.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
  assert.is(head.status, 200);
  const offset = Number(head.headers.get('upload-offset'));
  assert.ok(offset >= size / 2 && offset < size, `stopped at ${offset} of ${size}`);
  const listed = await owner.get('/api/uploads');
  assert.is(listed.status, 200);
  assert.is(listed.body.uploads[0].status, 'uploading');
  assert.is(listed.body.uploads[0].offset, offset, 'GET /api/uploads shows how far it got');
  const second = await send(api.base, owner, media.video, { channel: 'films', url: first.url! });
  assert.is(second.status, 204, second.body);
  assert.is(second.offsets[0], offset, 'the resumed upload continued at the offset (not from 0)');
  assert.ok(half > 0);
  assert.ok(second.vodId, 'the last chunk answered Glint-Vod-Id');
  const id = idOf(first.url);
  assert.is(await sha256(path.join(uploadsDir(api), id)), await sha256(media.video), 'the stored file is byte-identical to the source');
  assert.is((await uploadInput(api.deps, id)).input, path.join(uploadsDir(api), id), 'the transcoder reads the stored file');
  const db = api.deps.database.db;
  const [v] = await db.select().from(vod).where(eq(vod.id, second.vodId!));
  assert.is(v?.status, 'processing');
  assert.is(v?.source, 'upload');
  assert.is(v?.uploadId, id);
  assert.is(v?.title, 'My film');
  assert.ok(Math.abs((v?.durationMs ?? 0) - 4000) < 200, `duration ${v?.durationMs}`);
  const jobs = await db.select().from(job).where(eq(job.kind, 'vod.transcode'));
  assert.equal(jobs.map((j) => j.payload), [{ vodId: second.vodId }]);
  const [row] = await db.select().from(uploadTable).where(eq(uploadTable.id, id));
  assert.is(row?.status, 'accepted');
  assert.is(row?.vodId, second.vodId);
  const after = await owner.get('/api/uploads');
  assert.equal([after.body.uploads[0].status, after.body.uploads[0].vodId, after.body.uploads[0].progress], ['accepted', second.vodId, 1]);
  // deleting the VoD removes its source file and the upload (its quota with it)
  assert.is((await owner.delete(`/api/vods/${second.vodId}`)).status, 204);
  assert.not.ok((await storedFiles(api)).some((f) => f.startsWith(id)), 'the source file is removed with its VoD');
  assert.is((await db.select().from(uploadTable).where(eq(uploadTable.id, id))).length, 0);
});

t('bad files are refused after upload with their reason, leaving no VoD, no job and no stored bytes', async ({ api, owner, media }) => {
  const db = api.deps.database.db;
  const vodsBefore = (await db.select().from(vod)).length;
  const jobsBefore = (await db.select().from(job)).length;
  const filesBefore = await storedFiles(api);
  const cases: [keyof Media, string, RegExp][] = [
    ['pdf', 'a PDF named .mp4', /not a video file/i],
    ['empty', 'a zero-length file', /empty/i],
    ['truncated', 'a truncated MP4 (index at the front)', /incomplete|does not decode/i],
    ['noIndex', 'a truncated MP4 (index lost)', /incomplete.*moov/i],
    ['audio', 'an audio-only file', /no video stream.*audio only/i],
    ['long', 'a video over UPLOAD_MAX_DURATION_SECONDS', /8 s long; the limit is 6 s/],
    ['unknownCodec', 'a video in a codec FFmpeg does not know', /codec/i],
  ];
  for (const [key, what, reason] of cases) {
    const r = await send(api.base, owner, media[key], { channel: 'films' });
    assert.ok(r.status && r.status >= 400 && r.status < 500, `${what}: refused with a 4xx (got ${r.status})`);
    const problem = JSON.parse(r.body ?? '{}');
    assert.match(problem.detail ?? '', reason, `${what}: ${r.body}`);
    // a zero-length upload is finished by its creation, so the client never learns its URL: found by its name
    const [row] = await db.select().from(uploadTable).where(eq(uploadTable.filename, path.basename(media[key]))).orderBy(desc(uploadTable.createdAt)).limit(1);
    assert.is(row?.status, 'refused', what);
    assert.match(row?.refusal ?? '', reason, `${what}: the row keeps the reason for the page`);
  }
  assert.is((await db.select().from(vod)).length, vodsBefore, 'no VoD rows');
  assert.is((await db.select().from(job)).length, jobsBefore, 'no job rows');
  assert.equal(await storedFiles(api), filesBefore, 'no stored bytes left');
  const listed = await owner.get('/api/uploads');
  assert.ok(listed.body.uploads.some((u: { refusal: string | null }) => /audio only/.test(u.refusal ?? '')), 'the page sees the refusals');
});

t('an upload over the quota is refused at creation with a message naming the quota and its use; nothing is stored', async ({ api, owner }) => {
  const files = await storedFiles(api);
  const res = await createUpload(api, owner, 'films', 6 * 1024 * 1024);
  assert.is(res.status, 413);
  assert.is(res.headers.get('content-type'), 'application/problem+json');
  const problem = await res.json();
  assert.match(problem.detail, /storage quota of 5\.0 MiB: you use/);
  assert.equal(await storedFiles(api), files, 'nothing stored');
});

t('no session → 401; another\'s channel → 403; an unknown channel → 404; someone else\'s upload → 404', async ({ api, owner, stranger, media }) => {
  const anon = await send(api.base, null, media.video, { channel: 'films' });
  assert.is(anon.status, 401, anon.body);
  assert.match(JSON.parse(anon.body!).detail, /Sign in/);
  const theirs = await send(api.base, owner, media.video, { channel: 'elsewhere' });
  assert.is(theirs.status, 403, theirs.body);
  const none = await send(api.base, owner, media.video, { channel: 'no-such-channel' });
  assert.is(none.status, 404, none.body);
  const partial = await send(api.base, owner, media.video, { channel: 'films', abortAt: 1 });
  // (tus-js-client would start a new upload of its own on that 404: the requests are made by hand)
  for (const method of ['HEAD', 'PATCH', 'DELETE']) {
    const r = await fetch(partial.url!, {
      method,
      headers: { origin: api.base, cookie: cookieOf(stranger), 'tus-resumable': '1.0.0', 'upload-offset': '1', 'content-type': 'application/offset+octet-stream' },
      body: method === 'PATCH' ? 'x' : undefined,
    });
    assert.is(r.status, 404, `${method} of someone else's upload: the upload URL is no credential`);
  }
  const mine = await fetch(partial.url!, { method: 'HEAD', headers: { cookie: cookieOf(owner), 'tus-resumable': '1.0.0' } });
  assert.is(mine.status, 200, 'while its owner reaches it');
});

t('DELETE (tus termination) of an unfinished upload by its owner removes its bytes and its row', async ({ api, owner, media }) => {
  const partial = await send(api.base, owner, media.video, { channel: 'films', abortAt: 1 });
  const id = idOf(partial.url);
  assert.ok((await storedFiles(api)).includes(id));
  await tus.Upload.terminate(partial.url!, { headers: { origin: api.base, cookie: [...owner.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
  assert.not.ok((await storedFiles(api)).some((f) => f.startsWith(id)), 'bytes removed');
  assert.is((await api.deps.database.db.select().from(uploadTable).where(eq(uploadTable.id, id))).length, 0);
});

t('expiry removes an abandoned partial upload and marks its row expired', async ({ api, owner, media }) => {
  const partial = await send(api.base, owner, media.video, { channel: 'films', abortAt: 1 });
  const id = idOf(partial.url);
  await new Promise((r) => setTimeout(r, api.config.uploads.expireMs + 200));
  await api.deps.uploads.sweep();
  assert.not.ok((await storedFiles(api)).some((f) => f.startsWith(id)), 'bytes removed');
  const [row] = await api.deps.database.db.select().from(uploadTable).where(eq(uploadTable.id, id));
  assert.is(row?.status, 'expired');
  const again = await fetch(partial.url!, { method: 'HEAD', headers: { cookie: cookieOf(owner), 'tus-resumable': '1.0.0' } });
  assert.ok(again.status === 404 || again.status === 410, `it cannot be resumed (${again.status})`);
});

t('a chunk larger than UPLOAD_CHUNK_BYTES + slack is refused before it is read; malformed tus headers are 4xx problems', async ({ api, owner }) => {
  const cookie = [...owner.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const created = await fetch(`${api.base}/api/uploads`, {
    method: 'POST',
    headers: { origin: api.base, cookie, 'tus-resumable': '1.0.0', 'upload-length': '100', 'upload-metadata': `channel ${btoa('films')}` },
  });
  assert.is(created.status, 201);
  const url = new URL(created.headers.get('location')!, api.base).toString();
  // the header alone is refused: the 60 MiB are never sent
  const big = await new Promise<number>((resolve, reject) => {
    const req = http.request(url, { method: 'PATCH', headers: { origin: api.base, cookie, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(60 * 1024 * 1024) } });
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.once('error', reject);
    req.flushHeaders();
  });
  assert.is(big, 413);
  const hostile = ['-1', 'abc', '1e3', '99999999999999999999', '', ' 1', '0x10', 'NaN'];
  for (const header of ['upload-offset', 'upload-length', 'upload-metadata', 'upload-defer-length', 'upload-concat']) {
    for (const value of [...hostile, 'channel', 'channel ###', `channel ${btoa('films')},channel ${btoa('films')}`]) {
      for (const [method, target] of [['POST', `${api.base}/api/uploads`], ['PATCH', url], ['HEAD', url]] as const) {
        const r = await fetch(target, {
          method,
          headers: { origin: api.base, cookie, 'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream', ...(method === 'POST' ? { 'upload-length': '10', 'upload-metadata': `channel ${btoa('films')}` } : {}), [header]: value },
          body: method === 'HEAD' ? undefined : 'x',
        });
        await r.arrayBuffer();
        assert.ok(r.status < 500, `${method} ${header}: ${JSON.stringify(value)} → ${r.status}`);
        if (r.status >= 400 && method !== 'HEAD') assert.is(r.headers.get('content-type'), 'application/problem+json', `${method} ${header}: ${value}`);
      }
    }
  }
});

t.run();

const s3 = suite<{ api: TestApi; server: S3rver; shim: { origin: string; close(): Promise<void> }; dir: string; owner: Client; media: Media }>('uploads (tus) on S3 (s3rver standing in for MinIO/S3)');
s3.before(async (ctx) => {
  ctx.dir = await mkdtemp(path.join(os.tmpdir(), 'glint-uploads-s3-'));
  ctx.media = await makeMedia(ctx.dir);
  ctx.server = new S3rver({ port: 0, address: '127.0.0.1', directory: path.join(ctx.dir, 's3'), silent: true });
  const { port } = await ctx.server.run();
  // s3rver lacks ListParts and AbortMultipartUpload, which @tus/s3-store needs: a shim answers those two
  ctx.shim = await s3MultipartShim(`127.0.0.1:${port}`);
  ctx.api = await startTestApi({ S3_ENDPOINT: ctx.shim.origin, S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER' });
  ctx.owner = await ctx.api.client().signUp('S3 Uploader');
  assert.is((await ctx.owner.post('/api/channels', { slug: 's3-films', title: 'S3 films' })).status, 201);
});
s3.after(async (ctx) => {
  await ctx.api?.stop();
  await ctx.shim?.close();
  await ctx.server?.close();
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
});

s3('an interrupted upload resumes into the bucket byte-identical; the transcoder gets a presigned URL; a refused one leaves no object', async ({ api, owner, media }) => {
  const size = (await stat(media.video)).size;
  const first = await send(api.base, owner, media.video, { channel: 's3-films', abortAt: size / 2 });
  const second = await send(api.base, owner, media.video, { channel: 's3-films', url: first.url! });
  assert.is(second.status, 204, second.body);
  assert.ok(second.offsets[0]! > 0, 'resumed past 0');
  assert.ok(second.vodId);
  const { input } = await uploadInput(api.deps, idOf(first.url));
  assert.match(input, /X-Amz-Signature=/);
  const got = new Uint8Array(await (await fetch(input)).arrayBuffer());
  assert.is(createHash('sha256').update(got).digest('hex'), await sha256(media.video), 'the object is byte-identical to the source');
  const refused = await send(api.base, owner, media.pdf, { channel: 's3-films' });
  assert.is(refused.status, 415, refused.body);
  const id = idOf(refused.url);
  const objects = (await api.deps.store.list('')).filter((k) => k.startsWith(id));
  assert.equal(objects, [], 'no object of the refused upload');
});

s3.run();

const MiB = 1024 * 1024;
const limits = suite<{ api: TestApi; owner: Client }>('upload limits: the largest file and the daily quota');
limits.before(async (ctx) => {
  ctx.api = await startTestApi({ UPLOAD_MAX_FILE_BYTES: String(3 * MiB), UPLOAD_DAILY_QUOTA_BYTES: String(4 * MiB), UPLOAD_QUOTA_BYTES: String(100 * MiB) });
  ctx.owner = await ctx.api.client().signUp('Daily Uploader');
  assert.is((await ctx.owner.post('/api/channels', { slug: 'dailies', title: 'Dailies' })).status, 201);
});
limits.after(async (ctx) => {
  await ctx.api?.stop();
});

limits('a file over UPLOAD_MAX_FILE_BYTES is refused at creation, naming the limit; the web client is told the same limit', async ({ api, owner }) => {
  assert.is((await api.client().get('/api/config')).body.uploadMaxFileBytes, 3 * MiB);
  const files = await storedFiles(api);
  const res = await createUpload(api, owner, 'dailies', 3 * MiB + 1);
  assert.is(res.status, 413);
  assert.is(res.headers.get('content-type'), 'application/problem+json');
  const detail = (await res.json()).detail;
  assert.match(detail, /the largest upload is 3\.0 MiB/, detail);
  assert.equal(await storedFiles(api), files, 'nothing stored');
  const rows = await api.deps.database.db.select().from(uploadTable).where(eq(uploadTable.filename, 'big.mp4'));
  assert.equal(rows, [], 'no upload row');
  assert.is((await createUpload(api, owner, 'dailies', 3 * MiB)).status, 201, 'exactly the limit is accepted');
});

limits('the daily quota counts what was started in the last 24 hours, at creation: the upload that would pass it is refused; a day later there is room again', async ({ api, owner }) => {
  // the previous test started a 3 MiB upload: 1 MiB of today's 4 MiB is left (the storage quota, 100 MiB, is far off)
  const over = await createUpload(api, owner, 'dailies', 2 * MiB);
  assert.is(over.status, 413);
  assert.match((await over.json()).detail, /daily upload quota of 4\.0 MiB: you uploaded 3\.0 MiB in the last 24 hours/);
  assert.is((await createUpload(api, owner, 'dailies', 1 * MiB)).status, 201, 'what fits in the day is accepted');
  // the day passes for those uploads: they still count against storage, no longer against today
  const { db } = api.deps.database;
  await db.update(uploadTable).set({ createdAt: new Date(Date.now() - 25 * 3600_000) }).where(eq(uploadTable.userId, owner.user!.id));
  assert.is((await createUpload(api, owner, 'dailies', 2 * MiB)).status, 201, 'a new day has room');
});

limits.run();
