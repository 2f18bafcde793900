// @db-matrix
// How /hls/… may be cached. A subscriber-only playlist, segment or preview frame is `Cache-Control: private` with
// `Vary: Cookie` (a shared cache or CDN in front of Glint would otherwise hand a subscriber's copy to anyone), and so
// is the recording of a subscriber-only broadcast in progress; public files keep long public caching. With S3 the
// segments are redirects to signed URLs: a restricted one is never stored (the URL is a credential for the file).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import S3rver from 's3rver';
import { channel, liveSession, vod } from '../../shared/db/index.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';

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
  assert.is((await owner.post('/api/channels', { slug, title: slug })).status, 201);
  const { db } = api.deps.database;
  const [ch] = await db.select().from(channel).where(eq(channel.slug, slug));
  const id = crypto.randomUUID();
  await db.insert(vod).values({ id, channelId: ch!.id, title: slug, status, storagePrefix: `vod/${id}/` });
  await api.deps.store.put(`vod/${id}/index.m3u8`, new TextEncoder().encode('#EXTM3U\n'), 'application/vnd.apple.mpegurl');
  await api.deps.store.put(`vod/${id}/seg-00000.ts`, new Uint8Array(188).fill(0x47), 'video/mp2t');
  await api.deps.store.put(`vod/${id}/poster.jpg`, new Uint8Array([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg');
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

t('GET /hls/… of a public recording is publicly cacheable: segments and posters for a year, the playlist revalidated', async ({ api }) => {
  const owner = await api.client().signUp('Public Owner');
  const { files } = await recording(api, owner, 'open-show', 'ready');
  const anon = api.client();
  assert.is((await cacheOf(anon, files.segment)).cache, 'public, max-age=31536000, immutable');
  assert.is((await cacheOf(anon, files.poster)).cache, 'public, max-age=31536000, immutable');
  assert.is((await cacheOf(anon, files.playlist)).cache, 'no-cache');
  assert.is((await cacheOf(anon, files.preview)).cache, 'public, max-age=10');
});

t('GET /hls/… of a subscriber-only recording is Cache-Control private with Vary: Cookie (playlist and segments)', async ({ api }) => {
  const owner = await api.client().signUp('Members Owner');
  const { id, files } = await recording(api, owner, 'closed-show', 'ready');
  assert.is((await owner.patch(`/api/vods/${id}`, { subscribersOnly: true })).status, 200);
  assert.is((await api.client().get(files.segment, { check: false })).status, 401);
  for (const p of [files.segment, files.playlist]) {
    const { cache, vary } = await cacheOf(owner, p);
    assert.match(cache, /^private\b/, `${p}: ${cache}`);
    assert.not.match(cache, 'public');
    assert.match(vary, /cookie/i);
  }
  assert.is((await cacheOf(owner, files.segment)).cache, 'private, max-age=31536000, immutable', 'the viewer’s own cache still keeps it');
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
  assert.is((await owner.patch(`/api/vods/${id}`, { subscribersOnly: true })).status, 200);
  assert.is((await api.client().get(`/api/vods/${id}/chat`)).status, 401);
  assert.is((await stranger.get(`/api/vods/${id}/chat`)).status, 403);
  const own = await owner.get(`/api/vods/${id}/chat`);
  assert.is(own.status, 200);
  assert.match(own.headers.get('cache-control') ?? '', /^private/);
  assert.match(own.headers.get('vary') ?? '', /cookie/i);
});

t('with S3, a segment is a redirect to a signed URL: stored by nobody when subscriber-only, briefly public otherwise', async ({ s3api }) => {
  const owner = await s3api.client().signUp('S3 Owner');
  const open = await recording(s3api, owner, 's3-open', 'ready');
  const closed = await recording(s3api, owner, 's3-closed', 'ready');
  assert.is((await owner.patch(`/api/vods/${closed.id}`, { subscribersOnly: true })).status, 200);
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
