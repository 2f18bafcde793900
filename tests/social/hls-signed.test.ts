// @db-matrix @runtime-matrix
// Signed media URLs for subscriber-only recordings: an entitled viewer's playlist names its segments with a token
// (at MEDIA_PUBLIC_URL, here an edge from edge/hls-edge.ts on a loopback port), and a token alone opens the files —
// at the origin without the database, at the edge without the origin when the edge reads the object store (s3rver,
// a stand-in for MinIO/S3). Expired, altered, other-path, other-viewer and unlisted-key tokens are refused with 403;
// a listed old key still verifies; and the signed URL plays in hls.js in Chromium with no session at all, as it does
// on the VoD page, its segments from the edge.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import S3rver from 's3rver';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHlsEdge } from '../../edge/hls-edge.ts';
import { importMediaKeys, parseMediaKeys, signMediaToken, type MediaKey } from '../../shared/media-token.ts';
import { freePort, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { ffmpegVodFiles, placeholderFiles, seedVod } from '../helpers/vod-seed.ts';

const OLD = `old:${'o'.repeat(32)}`;
const NEW = `new:${'n'.repeat(32)}`;
const KEYS = `${NEW},${OLD}`;

type Server = { close(): Promise<void> };
type Ctx = { api: TestApi; s3api: TestApi; s3: S3rver; dir: string; edge: string; s3edge: string; servers: Server[]; keys: MediaKey[]; browser?: Browser };
const t = suite<Ctx>('signed media URLs');

type DenoServe = { serve(o: { hostname: string; port: number; onListen(): void }, h: (r: Request) => Promise<Response>): { shutdown(): Promise<void> } };
/** Serves a fetch handler on a loopback port: with Deno's own server on Deno (an edge runtime), @hono/node-server on Node. */
function serveFetch(fetch: (r: Request) => Promise<Response>, port: number): Promise<Server> {
  const deno = (globalThis as { Deno?: DenoServe }).Deno;
  return new Promise((resolve) => {
    if (deno) {
      const s = deno.serve({ hostname: '127.0.0.1', port, onListen: () => resolve({ close: () => s.shutdown() }) }, fetch);
      return;
    }
    const s: ServerType = serve({ fetch, hostname: '127.0.0.1', port }, () => resolve({ close: () => new Promise((r) => s.close(() => r())) }));
  });
}

/** An edge on a free loopback port (known before the API starts, which names it in MEDIA_PUBLIC_URL). */
async function edgeAt(port: number, opts: { origin: () => string; store?: string }, keys: MediaKey[], servers: Server[]) {
  let edge: ReturnType<typeof createHlsEdge> | undefined;
  const fetch = (req: Request) => (edge ??= createHlsEdge({ keys, mount: '/hls/', origin: `${opts.origin()}/hls/`, store: opts.store })).fetch(req);
  servers.push(await serveFetch(fetch, port));
}

t.before(async (ctx) => {
  ctx.servers = [];
  ctx.keys = await importMediaKeys(parseMediaKeys(KEYS));
  const [edgePort, s3edgePort] = [await freePort(), await freePort()];
  ctx.edge = `http://127.0.0.1:${edgePort}/hls`;
  ctx.s3edge = `http://127.0.0.1:${s3edgePort}/hls`;
  ctx.dir = await mkdtemp(path.join(os.tmpdir(), 'glint-s3rver-'));
  ctx.s3 = new S3rver({ port: 0, address: '127.0.0.1', directory: ctx.dir, silent: true });
  const { port } = await ctx.s3.run();
  ctx.api = await startTestApi({ MEDIA_SIGNING_KEYS: KEYS, MEDIA_PUBLIC_URL: ctx.edge });
  ctx.s3api = await startTestApi({ MEDIA_SIGNING_KEYS: KEYS, MEDIA_PUBLIC_URL: ctx.s3edge, S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER' });
  await edgeAt(edgePort, { origin: () => ctx.api.base }, ctx.keys, ctx.servers);
  await edgeAt(s3edgePort, { origin: () => ctx.s3api.base, store: `http://127.0.0.1:${port}/glint-media/` }, ctx.keys, ctx.servers);
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  for (const s of ctx.servers) await s.close();
  await ctx.api?.stop();
  await ctx.s3api?.stop();
  await ctx.s3?.close();
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
});

/** An owner with a subscriber-only VoD, a stranger, and that VoD's JSON as the owner sees it. */
async function restrictedVod(api: TestApi, slug: string, files = placeholderFiles({ ended: true })) {
  const owner = await api.client().signUp(`${slug} owner`);
  const stranger = await api.client().signUp(`${slug} stranger`);
  const id = await seedVod(api, owner, slug, { subscribersOnly: true, files });
  const own = await owner.get(`/api/vods/${id}`);
  assert.is(own.status, 200);
  return { owner, stranger, id, vod: own.body, token: new URL(own.body.signedPlaylistUrl).searchParams.get('token')! };
}

/** Plays an HLS URL muted in hls.js until 2.5 s have played: the time reached and the fatal error, if any. */
const PLAY = `
window.play = (src) => new Promise((resolve) => {
  const video = document.createElement('video');
  video.muted = true;
  document.body.appendChild(video);
  const hls = new Hls();
  let finished = false;
  function done(error) {
    if (finished) return;
    finished = true;
    const played = video.currentTime;
    hls.destroy();
    video.remove();
    resolve({ played, error });
  }
  hls.on(Hls.Events.ERROR, (_, d) => d.fatal && done((d.details + ' ' + (d.response ? d.response.code : '')).trim()));
  video.addEventListener('timeupdate', () => video.currentTime > 2.5 && done(null));
  setTimeout(() => done('timed out'), 20000);
  hls.loadSource(src);
  hls.attachMedia(video);
  video.play().catch(() => undefined);
});`;

const problemOf = async (res: Response) => ({ status: res.status, type: res.headers.get('content-type'), detail: ((await res.json()) as { detail: string }).detail });
/** GET with a client's session cookie (or none). */
const fetchAs = (url: string, who?: Client) => fetch(url, { headers: who?.cookies.size ? { cookie: [...who.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {} });

t('GET /api/vods/{id} gives an entitled viewer a signed playlist URL at MEDIA_PUBLIC_URL; others and public VoDs get none', async ({ api, edge }) => {
  const { owner, stranger, id, vod } = await restrictedVod(api, 'signed-json');
  assert.is(vod.playlistUrl, `${edge}/vod/${id}/index.m3u8`);
  assert.match(vod.signedPlaylistUrl, new RegExp(`^${edge}/vod/${id}/index\\.m3u8\\?token=new\\.`), 'signed with the first key');
  assert.is((await stranger.get(`/api/vods/${id}`)).body.signedPlaylistUrl, null);
  assert.is((await api.client().get(`/api/vods/${id}`)).body.signedPlaylistUrl, null);
  const list = await owner.get('/api/channels/signed-json/vods');
  assert.is(list.body.items[0].signedPlaylistUrl, vod.signedPlaylistUrl, 'the list too (the same URL within the hour)');
  const open = await seedVod(api, owner, 'signed-json', { files: placeholderFiles({ ended: true }) });
  assert.is((await owner.get(`/api/vods/${open}`)).body.signedPlaylistUrl, null, 'a public VoD needs no token');
  assert.equal(owner.unchecked, [], 'every answer matched the OpenAPI document');
});

t('GET /hls/… playlist with an entitled session: private, its segments at the CDN base carrying the viewer’s token', async ({ api, edge }) => {
  const { owner, id, token } = await restrictedVod(api, 'signed-session');
  const res = await fetchAs(`${api.base}/hls/vod/${id}/index.m3u8`, owner);
  assert.is(res.status, 200);
  assert.match(res.headers.get('cache-control')!, /^private, /);
  assert.match(res.headers.get('vary')!, /cookie/i);
  const uris = (await res.text()).split('\n').filter((l) => l && !l.startsWith('#'));
  assert.equal(uris, [`${edge}/vod/${id}/seg-00000.ts?token=${token}`]);
});

t('GET /hls/… with a valid token and no session is served, cached publicly no longer than the token lives', async ({ api, keys }) => {
  const { id, token } = await restrictedVod(api, 'signed-token');
  const seg = await fetch(`${api.base}/hls/vod/${id}/seg-00000.ts?token=${token}`);
  assert.is(seg.status, 200);
  assert.is((await seg.arrayBuffer()).byteLength, 1880);
  const age = Number(/^public, max-age=(\d+)$/.exec(seg.headers.get('cache-control')!)?.[1]);
  const exp = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).e as number;
  assert.ok(age > 3 * 3600 && age <= exp - Math.floor(Date.now() / 1000), `max-age ${age} within the token's life`);
  const playlist = await fetch(`${api.base}/hls/vod/${id}/index.m3u8?token=${token}`);
  assert.is(playlist.status, 200);
  assert.match(await playlist.text(), new RegExp(`seg-00000\\.ts\\?token=${token.replace(/\./g, '\\.')}\n`), 'its segments carry the same token');
  const head = await fetch(`${api.base}/hls/vod/${id}/seg-00000.ts?token=${token}`, { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(head.headers.get('content-length'), '1880');
  // the token alone decides (no entitlement is looked up): one issued to an id that is no subscriber still opens
  const unknown = await signMediaToken({ prefix: `vod/${id}/`, exp: Math.floor(Date.now() / 1000) + 60, viewer: 'not-a-subscriber' }, keys[0]!);
  assert.is((await fetch(`${api.base}/hls/vod/${id}/seg-00000.ts?token=${unknown}`)).status, 200);
});

t('GET /hls/… refuses expired, tampered, other-path, other-viewer and unlisted-key tokens with 403; an old listed key verifies', async ({ api, keys }) => {
  const { owner, stranger, id, token } = await restrictedVod(api, 'signed-refused');
  const other = await seedVod(api, owner, 'signed-refused', { subscribersOnly: true, files: placeholderFiles({ ended: true }) });
  const seg = (vodId: string, tok: string) => `${api.base}/hls/vod/${vodId}/seg-00000.ts?token=${encodeURIComponent(tok)}`;
  const now = Math.floor(Date.now() / 1000);
  const grant = { prefix: `vod/${id}/`, exp: now + 600, viewer: owner.user!.id };
  const [newKey, oldKey] = keys as [MediaKey, MediaKey];

  const expired = await problemOf(await fetch(seg(id, await signMediaToken({ ...grant, exp: now - 1 }, newKey))));
  assert.equal([expired.status, expired.type], [403, 'application/problem+json']);
  assert.match(expired.detail, /expired/);
  const [kid, payload, mac] = token.split('.') as [string, string, string];
  const stretched = btoa(JSON.stringify({ p: grant.prefix, e: now + 30 * 86_400, v: grant.viewer })).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  assert.match((await problemOf(await fetch(seg(id, `${kid}.${stretched}.${mac}`)))).detail, /altered/, 'a stretched expiry');
  assert.match((await problemOf(await fetch(seg(id, `${kid}.${payload}.${mac.slice(2)}`)))).detail, /altered/, 'a cut signature');
  const otherPath = await problemOf(await fetch(seg(other, token)));
  assert.is(otherPath.status, 403);
  assert.match(otherPath.detail, /another recording/);
  const otherViewer = await problemOf(await fetchAs(seg(id, token), stranger));
  assert.is(otherViewer.status, 403);
  assert.match(otherViewer.detail, /another viewer/);
  assert.is((await fetchAs(seg(id, token), owner)).status, 200, 'with its own viewer’s session it is served');
  assert.is((await fetch(seg(id, await signMediaToken(grant, oldKey)))).status, 200, 'the old kid verifies while it is listed');
  const [unlisted] = await importMediaKeys(parseMediaKeys(`gone:${'g'.repeat(32)}`));
  assert.match((await problemOf(await fetch(seg(id, await signMediaToken(grant, unlisted!))))).detail, /no longer in use/);
  assert.match((await problemOf(await fetch(seg(id, 'not-a-token')))).detail, /malformed/);
  assert.is((await fetch(`${api.base}/hls/vod/${id}/seg-00000.ts`)).status, 401, 'no token, no session: as before');
  assert.is((await fetchAs(`${api.base}/hls/vod/${id}/seg-00000.ts`, stranger)).status, 403);
});

t('the edge checks tokens itself and proxies to the origin: valid served, invalid 403 there, untokened as the origin says', async ({ api, edge, keys }) => {
  const { owner, id, token } = await restrictedVod(api, 'edge-origin');
  const viaEdge = await fetch(`${edge}/vod/${id}/seg-00000.ts?token=${token}`);
  assert.is(viaEdge.status, 200);
  assert.equal(new Uint8Array(await viaEdge.arrayBuffer()), placeholderFiles()['seg-00000.ts']);
  assert.match(viaEdge.headers.get('cache-control')!, /^public, max-age=\d+$/);
  assert.is(viaEdge.headers.get('access-control-allow-origin'), '*');
  const ranged = await fetch(`${edge}/vod/${id}/seg-00000.ts?token=${token}`, { headers: { range: 'bytes=-500' } });
  assert.is(ranged.status, 206);
  assert.is(ranged.headers.get('content-range'), 'bytes 1380-1879/1880');
  const expired = await signMediaToken({ prefix: `vod/${id}/`, exp: Math.floor(Date.now() / 1000) - 1, viewer: owner.user!.id }, keys[0]!);
  const refused = await problemOf(await fetch(`${edge}/vod/${id}/seg-00000.ts?token=${expired}`));
  assert.equal([refused.status, refused.type], [403, 'application/problem+json']);
  assert.match(refused.detail, /expired/);
  assert.is((await fetch(`${edge}/vod/${id}/seg-00000.ts`)).status, 401, 'no token: the origin’s answer');
  const open = await seedVod(api, owner, 'edge-origin', { files: placeholderFiles({ ended: true }) });
  const pub = await fetch(`${edge}/vod/${open}/index.m3u8`);
  assert.is(pub.status, 200);
  assert.is(pub.headers.get('cache-control'), 'public, max-age=3600');
  assert.match(await pub.text(), new RegExp(`^${edge}/vod/${open}/seg-00000\\.ts$`, 'm'), 'a public playlist names its segments at the CDN');
  assert.is((await fetch(`${edge}/vod/${id}/../../etc/passwd?token=${token}`)).status, 403, 'outside the token’s VoD');
  assert.is((await fetch(`${edge}/vod/${id}/seg%2000000.ts?token=${token}`)).status, 404, 'not an object key');
  assert.is((await fetch(`${edge}/vod/${id}/seg-00000.ts?token=${token}`, { method: 'POST' })).status, 405);
});

t('the edge in front of the object store (S3): a token opens files without the origin, playlists rewritten, ranges passed', async ({ s3api, s3edge, keys }) => {
  const { owner, id, vod, token } = await restrictedVod(s3api, 'edge-s3');
  assert.match(vod.signedPlaylistUrl, new RegExp(`^${s3edge}/`));
  const playlist = await fetch(vod.signedPlaylistUrl);
  assert.is(playlist.status, 200, await playlist.clone().text());
  assert.match(playlist.headers.get('cache-control')!, /^public, max-age=(\d{1,4})$/);
  const uri = (await playlist.text()).split('\n').find((l) => l && !l.startsWith('#'))!;
  assert.is(uri, `seg-00000.ts?token=${token}`);
  const seg = await fetch(new URL(uri, vod.signedPlaylistUrl));
  assert.is(seg.status, 200);
  assert.is(seg.headers.get('content-type'), 'video/mp2t');
  assert.equal(new Uint8Array(await seg.arrayBuffer()), placeholderFiles()['seg-00000.ts']);
  const part = await fetch(new URL(uri, vod.signedPlaylistUrl), { headers: { range: 'bytes=100-' } });
  assert.is(part.status, 206);
  assert.is(part.headers.get('content-range'), 'bytes 100-1879/1880');
  const other = await signMediaToken({ prefix: `vod/${crypto.randomUUID()}/`, exp: Math.floor(Date.now() / 1000) + 60, viewer: owner.user!.id }, keys[0]!);
  assert.is((await fetch(`${s3edge}/vod/${id}/seg-00000.ts?token=${other}`)).status, 403);
  assert.is((await fetch(`${s3edge}/vod/${id}/seg-00099.ts?token=${token}`)).status, 404);
  assert.is((await fetch(`${s3edge}/vod/${id}/seg-00000.ts`)).status, 401, 'no token: to the origin, which refuses');
  // with MEDIA_PUBLIC_URL the origin serves S3 bytes itself (no redirect), ranges from the object store included
  const direct = await fetch(`${s3api.base}/hls/vod/${id}/seg-00000.ts?token=${token}`, { headers: { range: 'bytes=-500' }, redirect: 'manual' });
  assert.is(direct.status, 206);
  assert.is(direct.headers.get('content-range'), 'bytes 1380-1879/1880');
  assert.equal(new Uint8Array(await direct.arrayBuffer()), placeholderFiles()['seg-00000.ts']!.slice(1380));
});

t('a signed playlist URL plays in hls.js in Chromium through the edge, with no session; the unsigned one does not', async (ctx) => {
  const { vod } = await restrictedVod(ctx.api, 'signed-play', await ffmpegVodFiles());
  ctx.browser ??= await launchBrowser();
  const page = await ctx.browser.context.newPage();
  await page.goto(`${ctx.api.base}/healthz`);
  await page.addScriptTag({ path: path.resolve('node_modules/hls.js/dist/hls.min.js') });
  // plain JavaScript in the page (a function passed from here would carry tsx's helpers, undefined there)
  await page.addScriptTag({ content: PLAY });
  const play = (src: string) => page.evaluate(`play(${JSON.stringify(src)})`) as Promise<{ played: number; error: string | null }>;
  const signed = await play(vod.signedPlaylistUrl);
  assert.is(signed.error, null);
  assert.ok(signed.played > 2.5, `played ${signed.played} s`);
  const unsigned = await play(vod.playlistUrl);
  assert.match(unsigned.error ?? 'played', /manifestLoadError 401/);
});

t('the VoD page plays a subscriber-only VoD from its signed URL at the CDN (its plain URL there has no session)', async (ctx) => {
  const { owner, id } = await restrictedVod(ctx.api, 'signed-page', await ffmpegVodFiles());
  ctx.browser ??= await launchBrowser();
  await ctx.browser.context.addCookies([...owner.cookies].map(([name, value]) => ({ name, value, url: ctx.api.base })));
  const page = await ctx.browser.context.newPage();
  const fromEdge: string[] = [];
  page.on('response', (r) => r.url().startsWith(ctx.edge) && fromEdge.push(`${r.status()} ${new URL(r.url()).pathname}`));
  await page.goto(`${ctx.api.base}/v/${id}`);
  const played = await page.evaluate(`(async () => {
    const start = performance.now();
    let video;
    while (!(video = document.querySelector('[data-testid="vod-video"]')) && performance.now() - start < 10000) await new Promise((r) => setTimeout(r, 100));
    video.muted = true;
    await video.play().catch(() => undefined);
    while (video.currentTime < 2.5 && !document.querySelector('[data-testid="vod-error"]') && performance.now() - start < 20000) await new Promise((r) => setTimeout(r, 100));
    return video.currentTime;
  })()`);
  assert.ok((played as number) > 2.5, `played ${played} s; edge answers: ${fromEdge.join(', ')}`);
  assert.ok(fromEdge.some((r) => r === `200 /hls/vod/${id}/seg-00000.ts`), `segments came from the edge: ${fromEdge.join(', ')}`);
  await page.close();
  await ctx.browser.context.clearCookies();
});

t.run();
