// @db-matrix @runtime-matrix
// How /hls/… may be cached and fetched. Public segments and posters are immutable for a year, a growing playlist
// lives a second (a CDN collapses the viewers' polling), an ended one an hour with an ETag. A subscriber-only
// playlist, segment or preview frame opened by a session is `Cache-Control: private` with `Vary: Cookie` (a shared
// cache or CDN in front of Glint would otherwise hand a subscriber's copy to anyone), and so is the recording of a
// subscriber-only broadcast in progress. With S3 the segments are redirects to signed URLs: a restricted one is never
// stored (the URL is a credential for the file). Every file answers HEAD and one byte range (RFC 9110), on local disk
// and on S3. (Signed media URLs: tests/social/hls-signed.test.ts.)
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import S3rver from 's3rver';
import { channel, liveSession } from '../../shared/db/index.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { placeholderFiles, seedVod } from '../helpers/vod-seed.ts';

type Ctx = { api: TestApi; s3api: TestApi; s3: S3rver; dir: string };
const t = suite<Ctx>('HLS caching');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.dir = await mkdtemp(path.join(os.tmpdir(), 'glint-s3rver-'));
  ctx.s3 = new S3rver({ port: 0, address: '127.0.0.1', directory: ctx.dir, silent: true });
  const { port } = await ctx.s3.run();
  ctx.s3api = await startTestApi({ S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER' });
});
t.after(async (ctx) => {
  await ctx.api?.stop();
  await ctx.s3api?.stop();
  await ctx.s3?.close();
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
});

/** A channel with one recording (playlist, a segment, a poster) and a live session with a preview frame. */
async function recording(api: TestApi, owner: Client, slug: string, status: 'ready' | 'recording') {
  const id = await seedVod(api, owner, slug, { status, files: placeholderFiles({ ended: status === 'ready' }) });
  const { db } = api.deps.database;
  const [ch] = await db.select().from(channel).where(eq(channel.slug, slug));
  const session = crypto.randomUUID();
  await db.insert(liveSession).values({ id: session, channelId: ch!.id, source: 'whip' });
  await api.deps.store.put(`live/${session}/preview.jpg`, new Uint8Array([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg');
  return { id, session, files: { playlist: `/hls/vod/${id}/index.m3u8`, segment: `/hls/vod/${id}/seg-00000.ts`, poster: `/hls/vod/${id}/poster.jpg`, preview: `/hls/live/${session}/preview.jpg` } };
}

const cacheOf = async (c: Client, p: string) => {
  const r = await c.get(p, { check: false });
  assert.is(r.status === 200 || r.status === 302, true, `${p}: ${r.status} ${r.text}`);
  return { cache: r.headers.get('cache-control') ?? '', vary: r.headers.get('vary') ?? '', status: r.status };
};

t('GET /hls/… of a public recording is publicly cacheable: segments and posters for a year, the ended playlist an hour', async ({ api }) => {
  const owner = await api.client().signUp('Public Owner');
  const { files } = await recording(api, owner, 'open-show', 'ready');
  const anon = api.client();
  assert.is((await cacheOf(anon, files.segment)).cache, 'public, max-age=31536000, immutable');
  assert.is((await cacheOf(anon, files.poster)).cache, 'public, max-age=31536000, immutable');
  assert.is((await cacheOf(anon, files.playlist)).cache, 'public, max-age=3600');
  assert.is((await cacheOf(anon, files.preview)).cache, 'public, max-age=10');
});

t('GET /hls/… playlist of a recording in progress lives a second; once ended, an hour, revalidated by its ETag', async ({ api }) => {
  const owner = await api.client().signUp('Growing Owner');
  const { id, files } = await recording(api, owner, 'growing-show', 'recording');
  const live = await fetch(api.base + files.playlist);
  assert.is(live.headers.get('cache-control'), 'public, max-age=1');
  assert.is(live.headers.get('vary'), null, 'public: one copy for every viewer');
  const etag = live.headers.get('etag')!;
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  assert.is((await fetch(api.base + files.playlist, { headers: { 'if-none-match': etag } })).status, 304);
  // the broadcast ends: the recorder writes the final playlist
  await api.deps.store.put(`vod/${id}/index.m3u8`, placeholderFiles({ ended: true })['index.m3u8']!, 'application/vnd.apple.mpegurl');
  const ended = await fetch(api.base + files.playlist, { headers: { 'if-none-match': etag } });
  assert.is(ended.status, 200, 'the old ETag no longer matches');
  assert.is(ended.headers.get('cache-control'), 'public, max-age=3600');
  assert.match(await ended.text(), /#EXT-X-ENDLIST/);
  const again = await fetch(api.base + files.playlist, { headers: { 'if-none-match': ended.headers.get('etag')! } });
  assert.is(again.status, 304);
  assert.is(again.headers.get('cache-control'), 'public, max-age=3600');
  assert.is(await again.text(), '');
});

t('GET /hls/live/{session}/preview.jpg on air before the first frame: 204 No Content, not stored; once ended, 404', async ({ api }) => {
  const owner = await api.client().signUp('Early Owner');
  await seedVod(api, owner, 'early-frame', { status: 'recording', files: placeholderFiles({ ended: false }) });
  const { db } = api.deps.database;
  const [ch] = await db.select().from(channel).where(eq(channel.slug, 'early-frame'));
  const session = crypto.randomUUID();
  await db.insert(liveSession).values({ id: session, channelId: ch!.id, source: 'whip' });
  const preview = `/hls/live/${session}/preview.jpg`;
  const early = await api.client().get(preview, { check: false });
  assert.is(early.status, 204, 'no frame yet is not an error (a card shows the avatar meanwhile)');
  assert.is(early.headers.get('cache-control'), 'no-store');
  await api.deps.store.put(`live/${session}/preview.jpg`, new Uint8Array([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg');
  assert.is((await api.client().get(preview, { check: false })).status, 200, 'the first frame, once stored');
  await api.deps.store.delete(`live/${session}/preview.jpg`);
  await db.update(liveSession).set({ endedAt: new Date() }).where(eq(liveSession.id, session));
  assert.is((await api.client().get(preview, { check: false })).status, 404, 'an ended broadcast has no preview');
});

t('HEAD /hls/… answers every file with its headers and Content-Length, and no body', async ({ api }) => {
  const owner = await api.client().signUp('Head Owner');
  const { id, files } = await recording(api, owner, 'head-show', 'ready');
  for (const p of Object.values(files)) {
    const got = await fetch(api.base + p);
    const body = new Uint8Array(await got.arrayBuffer());
    const head = await fetch(api.base + p, { method: 'HEAD' });
    assert.is(head.status, 200, p);
    assert.is(head.headers.get('content-length'), String(body.length), p);
    assert.is(head.headers.get('content-type'), got.headers.get('content-type'), p);
    assert.is(head.headers.get('cache-control'), got.headers.get('cache-control'), p);
    assert.is(head.headers.get('accept-ranges'), 'bytes', p);
    assert.is((await head.arrayBuffer()).byteLength, 0, p);
  }
  assert.is((await fetch(`${api.base}/hls/vod/${id}/seg-00009.ts`, { method: 'HEAD' })).status, 404);
  assert.is((await owner.patch(`/api/vods/${id}`, { visibility: 'subscribers' })).status, 200);
  assert.is((await fetch(api.base + files.segment, { method: 'HEAD' })).status, 401, 'a restricted file’s headers are as closed as its bytes');
});

/** Asks `url` for `range` and returns the status, Content-Range and body. */
async function ranged(url: string, range: string) {
  const res = await fetch(url, { headers: { range } });
  const body = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, contentRange: res.headers.get('content-range'), length: res.headers.get('content-length'), type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), body };
}

/** The byte ranges every /hls file answers, checked against its whole bytes. */
async function checkRanges(url: string) {
  const whole = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const n = whole.length;
  assert.ok(n > 20, `${url} has bytes to cut`);
  for (const [range, start, end] of [['bytes=0-9', 0, 9], ['bytes=5-', 5, n - 1], ['bytes=-7', n - 7, n - 1], [`bytes=3-${n + 100}`, 3, n - 1]] as const) {
    const r = await ranged(url, range);
    assert.is(r.status, 206, `${url} ${range}`);
    assert.is(r.contentRange, `bytes ${start}-${end}/${n}`, range);
    assert.is(r.length, String(end - start + 1), range);
    assert.equal([...r.body], [...whole.slice(start, end + 1)], range);
  }
  const past = await ranged(url, `bytes=${n}-`);
  assert.is(past.status, 416);
  assert.is(past.contentRange, `bytes */${n}`);
  assert.is(past.type, 'application/problem+json');
  assert.not.match(past.cache ?? '', /max-age/, 'a refusal of one client’s Range is not kept for the file’s lifetime');
  // several ranges, or a malformed header: the whole file (RFC 9110 lets a server ignore Range)
  for (const range of ['bytes=0-1,4-5', 'bytes=9-2', 'bytes=x-', 'pages=1-2']) {
    const r = await ranged(url, range);
    assert.is(r.status, 200, `${url} ${range}`);
    assert.is(r.body.length, n, range);
  }
}

t('GET /hls/… with Range: 206 with Content-Range for one range (suffix, open-ended), 416 past the end (local disk)', async ({ api }) => {
  const owner = await api.client().signUp('Range Owner');
  const { files } = await recording(api, owner, 'range-show', 'ready');
  const big = await seedVod(api, owner, 'range-show', { files: placeholderFiles({ ended: true, segmentBytes: 188 * 100 }) });
  await checkRanges(`${api.base}/hls/vod/${big}/seg-00000.ts`);
  const r = await ranged(`${api.base}/hls/vod/${big}/seg-00000.ts`, 'bytes=-500');
  assert.is(r.contentRange, `bytes ${188 * 100 - 500}-${188 * 100 - 1}/${188 * 100}`);
  await checkRanges(api.base + files.playlist);
});

t('GET /hls/… of a subscriber-only recording is Cache-Control private with Vary: Cookie (playlist and segments)', async ({ api }) => {
  const owner = await api.client().signUp('Members Owner');
  const { id, files } = await recording(api, owner, 'closed-show', 'ready');
  assert.is((await owner.patch(`/api/vods/${id}`, { visibility: 'subscribers' })).status, 200);
  assert.is((await api.client().get(files.segment, { check: false })).status, 401);
  for (const p of [files.segment, files.playlist]) {
    const { cache, vary } = await cacheOf(owner, p);
    assert.match(cache, /^private\b/, `${p}: ${cache}`);
    assert.not.match(cache, 'public');
    assert.match(vary, /cookie/i);
  }
  assert.is((await cacheOf(owner, files.segment)).cache, 'private, max-age=31536000, immutable', 'the viewer’s own cache still keeps it');
  // no MEDIA_SIGNING_KEYS here: the key derived from the session secret signs the owner's URL and verifies it
  const signed = (await owner.get(`/api/vods/${id}`)).body.signedPlaylistUrl as string;
  assert.match(signed, new RegExp(`^/hls/vod/${id}/index\\.m3u8\\?token=auth-`));
  const byToken = await fetch(api.base + signed);
  assert.is(byToken.status, 200);
  assert.match(byToken.headers.get('cache-control')!, /^public, max-age=\d+$/, 'its URL holds the token: a CDN may keep it, keyed on that URL');
  assert.match(await byToken.text(), /^seg-00000\.ts\?token=auth-/m, 'relative segment URIs with the token (no MEDIA_PUBLIC_URL)');
  // the poster is public by design (cards show it to everyone): cached as such
  assert.match((await cacheOf(api.client(), files.poster)).cache, /^public/);
});

t('GET /hls/… of a subscriber-only live broadcast (its recording in progress, its preview frame) is private', async ({ api }) => {
  const owner = await api.client().signUp('Live Members Owner');
  const { files } = await recording(api, owner, 'closed-live', 'recording');
  assert.is((await owner.patch('/api/channels/closed-live', { subscribersOnlyLive: true })).status, 200);
  for (const p of [files.segment, files.playlist, files.preview]) {
    assert.is((await api.client().get(p, { check: false })).status, 401, p);
    const { cache, vary } = await cacheOf(owner, p);
    assert.match(cache, /^private\b/, `${p}: ${cache}`);
    assert.match(vary, /cookie/i, p);
  }
});

t('GET /api/vods/{id}/chat of a subscriber-only recording (its chat replay) is 401/403 to others, private to those entitled', async ({ api }) => {
  const owner = await api.client().signUp('Replay Owner');
  const stranger = await api.client().signUp('Replay Stranger');
  const { id } = await recording(api, owner, 'closed-replay', 'ready');
  assert.is((await api.client().get(`/api/vods/${id}/chat`)).status, 200, 'public while the recording is');
  assert.is((await owner.patch(`/api/vods/${id}`, { visibility: 'subscribers' })).status, 200);
  assert.is((await api.client().get(`/api/vods/${id}/chat`)).status, 401);
  assert.is((await stranger.get(`/api/vods/${id}/chat`)).status, 403);
  const own = await owner.get(`/api/vods/${id}/chat`);
  assert.is(own.status, 200);
  assert.match(own.headers.get('cache-control') ?? '', /^private/);
  assert.match(own.headers.get('vary') ?? '', /cookie/i);
});

t('GET /hls/… with Range on S3: the playlist served here answers ranges; a segment’s redirect carries the Range to S3', async ({ s3api }) => {
  const owner = await s3api.client().signUp('S3 Range Owner');
  const id = await seedVod(s3api, owner, 's3-range', { files: placeholderFiles({ ended: true }) });
  await checkRanges(`${s3api.base}/hls/vod/${id}/index.m3u8`);
  // (not a suffix range here: s3rver, the stand-in, reads bytes=-500 as 0-500; MinIO and S3 do not)
  const redirected = await ranged(`${s3api.base}/hls/vod/${id}/seg-00000.ts`, 'bytes=100-');
  assert.is(redirected.status, 206, 'fetch follows the redirect with the Range header');
  assert.is(redirected.contentRange, `bytes 100-1879/1880`);
});

t('with S3, a segment is a redirect to a signed URL: stored by nobody when subscriber-only, briefly public otherwise', async ({ s3api }) => {
  const owner = await s3api.client().signUp('S3 Owner');
  const open = await recording(s3api, owner, 's3-open', 'ready');
  const closed = await recording(s3api, owner, 's3-closed', 'ready');
  assert.is((await owner.patch(`/api/vods/${closed.id}`, { visibility: 'subscribers' })).status, 200);
  const pub = await cacheOf(s3api.client(), open.files.segment);
  assert.is(pub.status, 302);
  assert.match(pub.cache, /^public, max-age=\d+$/);
  assert.ok(Number(/max-age=(\d+)/.exec(pub.cache)![1]) < 3600, 'not kept past the signed URL’s expiry');
  assert.is((await s3api.client().get(closed.files.segment, { check: false })).status, 401);
  const priv = await cacheOf(owner, closed.files.segment);
  assert.is(priv.status, 302);
  assert.is(priv.cache, 'private, no-store');
  assert.match(priv.vary, /cookie/i);
});

t.run();
