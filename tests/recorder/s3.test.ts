// Recording into S3-compatible storage. MinIO itself cannot be installed here: s3rver, an S3-protocol server from npm,
// stands in for it. Checks the upload order (every playlist written after the segments it names), segment delivery
// through signed URLs, and that deleting a VoD removes its objects (owner only).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePlaylist } from '../../recorder/hls.ts';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { publish, unpublish, until } from '../helpers/webrtc.ts';

type Ctx = { api: TestApi; browser: Browser; s3: S3rver; dir: string; puts: { key: string; body: string }[] };
const t = suite<Ctx>('recorder into S3 (s3rver from npm standing in for MinIO)');

t.before(async (ctx) => {
  ctx.dir = await mkdtemp(path.join(os.tmpdir(), 'glint-s3rver-'));
  ctx.s3 = new S3rver({ port: 0, address: '127.0.0.1', directory: ctx.dir, silent: true });
  const { port } = await ctx.s3.run();
  ctx.api = await startTestApi({ S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER' });
  assert.is(ctx.api.deps.store.kind, 's3');
  // every write the recorder makes, in order
  ctx.puts = [];
  const store = ctx.api.deps.store;
  const put = store.put.bind(store);
  store.put = async (key, body, type) => {
    await put(key, body, type);
    ctx.puts.push({ key, body: key.endsWith('.m3u8') ? new TextDecoder().decode(body) : '' });
  };
  ctx.browser = await launchBrowser({ fakeMedia: true });
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
  await ctx.s3?.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

t('a broadcast is recorded into S3: segments before playlists, served through signed URLs; the owner deletes it with its objects', async ({ api, browser, puts }) => {
  const owner = await api.client().signUp('S3 Owner');
  assert.is((await owner.post('/api/channels', { slug: 's3-rec', title: 'S3' })).status, 201);
  const key = (await owner.post('/api/channels/s3-rec/stream-keys', {})).body.key;
  const page = await browser.context.newPage();
  await page.goto(api.base + '/healthz');
  const p = await publish(page, { slug: 's3-rec', key, codec: 'VP8' });
  assert.is(p.status, 201, p.body);
  await new Promise((r) => setTimeout(r, 8000));
  await unpublish(page);
  await page.close();
  const list = await until(() => api.client().get('/api/channels/s3-rec/vods'), (r) => r.body.items?.[0]?.status === 'ready', 10_000);
  const v = list.body.items[0];
  assert.is(v?.status, 'ready');

  const prefix = `vod/${v.id}/`;
  const written = new Set<string>();
  let playlists = 0;
  for (const put of puts.filter((x) => x.key.startsWith(prefix))) {
    if (put.key.endsWith('.m3u8')) {
      playlists++;
      for (const s of parsePlaylist(put.body).segments) assert.ok(written.has(prefix + s.uri), `playlist write #${playlists} names ${s.uri} before it was uploaded`);
    }
    written.add(put.key);
  }
  assert.ok(playlists >= 3, `the playlist was updated as segments came (${playlists} writes)`);

  const playlist = await (await fetch(api.base + v.playlistUrl)).text();
  assert.match(playlist, /#EXT-X-ENDLIST/);
  const first = parsePlaylist(playlist).segments[0]!.uri;
  const seg = await fetch(new URL(first, api.base + v.playlistUrl), { redirect: 'manual' });
  assert.is(seg.status, 302, 'segments come straight from the object store');
  assert.match(seg.headers.get('location') ?? '', /X-Amz-Signature=/);
  const body = await fetch(seg.headers.get('location')!);
  assert.is(body.status, 200);
  assert.is(new Uint8Array(await body.arrayBuffer())[0], 0x47, 'an MPEG-TS segment');

  const stranger = await api.client().signUp('Stranger');
  assert.is((await stranger.delete(`/api/vods/${v.id}`)).status, 403);
  assert.is((await owner.delete(`/api/vods/${v.id}`)).status, 204);
  assert.equal(await api.deps.store.list(prefix), [], 'its objects are gone');
  assert.is((await api.client().get(`/api/vods/${v.id}`)).status, 404);
  assert.is((await fetch(api.base + v.playlistUrl)).status, 404);
});

t.run();
