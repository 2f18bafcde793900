// The object store contract, run against both implementations: local disk (the embedded default) and S3 through the
// minio client. MinIO itself cannot be installed here, so the S3 side talks to s3rver, an S3-protocol server from npm
// (a stand-in for MinIO/S3, named as such in the suite title).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LocalStore, S3Store, createStore, type ObjectStore } from '../../shared/storage.ts';

const text = async (store: ObjectStore, key: string) => {
  const obj = await store.get(key);
  return obj ? { size: obj.size, body: await new Response(obj.body).text() } : null;
};
const bytes = (s: string) => new TextEncoder().encode(s);

type Ctx = { store: ObjectStore; cleanup: () => Promise<void> };

function contract(name: string, open: () => Promise<Ctx>) {
  const t = suite<Ctx>(name);
  t.before(async (ctx) => {
    Object.assign(ctx, await open());
  });
  t.after(async (ctx) => ctx.cleanup?.());

  t('put then get returns the bytes and size; a missing key is null; put overwrites', async ({ store }) => {
    await store.put('vod/1/index.m3u8', bytes('#EXTM3U\n'), 'application/vnd.apple.mpegurl');
    assert.equal(await text(store, 'vod/1/index.m3u8'), { size: 8, body: '#EXTM3U\n' });
    assert.is(await store.get('vod/1/missing.ts'), null);
    assert.is(await store.size('vod/1/index.m3u8'), 8);
    assert.is(await store.size('vod/1/missing.ts'), null);
    await store.put('vod/1/index.m3u8', bytes('#EXTM3U\n#EXT-X-ENDLIST\n'), 'application/vnd.apple.mpegurl');
    assert.is((await text(store, 'vod/1/index.m3u8'))?.body, '#EXTM3U\n#EXT-X-ENDLIST\n');
  });

  t('list is by prefix and sorted; delete and deletePrefix remove only what they name', async ({ store }) => {
    for (const k of ['vod/2/seg-002.ts', 'vod/2/seg-001.ts', 'vod/2/index.m3u8', 'vod/20/seg-001.ts', 'avatars/x.png']) await store.put(k, bytes(k), 'application/octet-stream');
    assert.equal(await store.list('vod/2/'), ['vod/2/index.m3u8', 'vod/2/seg-001.ts', 'vod/2/seg-002.ts']);
    await store.delete('vod/2/seg-001.ts');
    await store.delete('vod/2/seg-001.ts'); // idempotent
    assert.equal(await store.list('vod/2/'), ['vod/2/index.m3u8', 'vod/2/seg-002.ts']);
    assert.is(await store.deletePrefix('vod/2/'), 2);
    assert.equal(await store.list('vod/2/'), []);
    assert.equal(await store.list('vod/20/'), ['vod/20/seg-001.ts'], 'a sibling prefix is untouched');
    assert.is((await text(store, 'avatars/x.png'))?.body, 'avatars/x.png');
  });

  t('get with a byte range streams those bytes (inclusive) and the whole size', async ({ store }) => {
    await store.put('vod/3/seg-00000.ts', bytes('0123456789'), 'video/mp2t');
    const part = async (start: number, end: number) => {
      const obj = await store.get('vod/3/seg-00000.ts', { start, end });
      return obj && { size: obj.size, body: await new Response(obj.body).text() };
    };
    assert.equal(await part(2, 5), { size: 10, body: '2345' });
    assert.equal(await part(9, 9), { size: 10, body: '9' });
    assert.equal(await part(0, 9), { size: 10, body: '0123456789' });
    assert.is(await store.get('vod/3/missing.ts', { start: 0, end: 1 }), null);
  });

  t('keys outside the safe alphabet are refused', async ({ store }) => {
    for (const bad of ['../etc/passwd', 'a//b', '/abs', 'a/../b', 'sp ace']) {
      const err = await store.put(bad, bytes('x'), 'text/plain').then(() => null, (e: Error) => e);
      assert.match(err?.message ?? 'accepted', /invalid object key/, bad);
    }
  });
  t.run();
}

contract('object store: local disk', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glint-store-'));
  const store = await createStore(dir);
  assert.ok(store instanceof LocalStore);
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

contract('object store: S3 via the minio client, against s3rver (an npm S3 server standing in for MinIO)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glint-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory: dir, silent: true });
  const { port } = await server.run();
  // the bucket does not exist yet: createStore makes it, as on a fresh MinIO
  const store = await createStore(dir, { endpoint: `http://127.0.0.1:${port}`, bucket: 'glint-media', accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1' });
  assert.ok(store instanceof S3Store);
  await store.put('signed/a.txt', bytes('signed hello'), 'text/plain');
  const url = await store.signedUrl('signed/a.txt', 60);
  assert.match(url ?? '', /X-Amz-Signature=/);
  const res = await fetch(url!);
  assert.is(res.status, 200);
  assert.is(await res.text(), 'signed hello', 'a browser can fetch the object from the signed URL');
  assert.is(res.headers.get('content-type'), 'text/plain');
  await store.delete('signed/a.txt');
  return { store, cleanup: async () => { await server.close(); await rm(dir, { recursive: true, force: true }); } };
});

// The bucket as browsers reach it (S3_PUBLIC_URL) differs from the address Glint uses (S3_ENDPOINT, e.g. minio:9000 on
// the compose network). Here "localhost" stands for the public origin and 127.0.0.1 for the private one: both reach
// s3rver, and MinIO/S3 check that a SigV4 signature covers the Host the URL is fetched from.
const pub = suite<{ port: number; dir: string; server: S3rver }>('S3 signed URLs for the public origin (s3rver standing in for MinIO)');
pub.before(async (ctx) => {
  ctx.dir = await mkdtemp(path.join(os.tmpdir(), 'glint-s3rver-'));
  ctx.server = new S3rver({ port: 0, address: '127.0.0.1', directory: ctx.dir, silent: true });
  ctx.port = (await ctx.server.run()).port;
});
pub.after(async (ctx) => {
  await ctx.server?.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

pub('signedUrl names S3_PUBLIC_URL, and that URL fetches the object when the public origin routes to the server', async ({ port, dir }) => {
  const settings = { endpoint: `http://127.0.0.1:${port}`, bucket: 'glint-public', accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1' };
  const store = await createStore(dir, { ...settings, publicUrl: `http://localhost:${port}` });
  await store.put('vod/p/seg-00000.ts', bytes('public hello'), 'video/mp2t');
  const url = new URL((await store.signedUrl('vod/p/seg-00000.ts', 60))!);
  assert.is(url.origin, `http://localhost:${port}`, 'the origin browsers reach, not the endpoint');
  assert.is(url.pathname, '/glint-public/vod/p/seg-00000.ts');
  const res = await fetch(url);
  assert.is(res.status, 200, 'signed for the host it is fetched from');
  assert.is(await res.text(), 'public hello');
  // (s3rver does not check the signed Host header, so it cannot show a URL moved to another host failing; MinIO does)
  await store.deletePrefix('vod/p/');
});

pub('without a public origin (publicUrl null) there is no signed URL: the API serves the object itself', async ({ port, dir }) => {
  const store = await createStore(dir, { endpoint: `http://127.0.0.1:${port}`, bucket: 'glint-public', accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1', publicUrl: null });
  await store.put('vod/q/seg-00000.ts', bytes('q'), 'video/mp2t');
  assert.is(await store.signedUrl('vod/q/seg-00000.ts', 60), null);
  assert.is((await text(store, 'vod/q/seg-00000.ts'))?.body, 'q');
  await store.deletePrefix('vod/q/');
});

pub.run();
