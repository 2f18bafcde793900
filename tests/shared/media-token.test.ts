// Signed media URLs (shared/media-token.ts) and the HTTP rules of HLS files (shared/media-http.ts), as units: what a
// token grants and every way one is refused, key rotation, and the byte ranges, cache headers and playlist rewriting
// the origin and the edge share.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deriveMediaKey, importMediaKeys, MAX_TOKEN_LENGTH, parseMediaKeys, signMediaToken, verifyMediaToken } from '../../shared/media-token.ts';
import { etagMatches, etagOf, mediaCacheControl, parseRange, playlistKind, rewritePlaylist } from '../../shared/media-http.ts';

const t = suite('media tokens and HLS HTTP rules');
const SECRET_A = 'a'.repeat(32);
const SECRET_B = 'b'.repeat(40);
const NOW = 1_800_000_000;
const grant = { prefix: 'vod/11111111-1111-4111-8111-111111111111/', exp: NOW + 3600, viewer: 'user-1' };
const seg = `${grant.prefix}seg-00003.ts`;

t('a signed token grants the files directly under its prefix to its viewer until it expires', async () => {
  const [key] = await importMediaKeys([{ kid: 'k1', secret: SECRET_A }]);
  const token = await signMediaToken(grant, key!);
  assert.match(token, /^k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  for (const file of ['index.m3u8', 'seg-00003.ts', 'poster.jpg']) {
    const check = await verifyMediaToken(token, grant.prefix + file, [key!], NOW);
    assert.equal(check, { ok: true, grant }, file);
  }
});

t('a token is refused once expired, when altered, for another path and when malformed', async () => {
  const [key] = await importMediaKeys([{ kid: 'k1', secret: SECRET_A }]);
  const token = await signMediaToken(grant, key!);
  const reason = async (tok: string, path = seg, now = NOW) => {
    const check = await verifyMediaToken(tok, path, [key!], now);
    return check.ok ? 'ok' : check.reason;
  };
  assert.is(await reason(token, seg, grant.exp), 'expired', 'at exp');
  assert.is(await reason(token, seg, grant.exp - 1), 'ok', 'a second before');
  const [kid, payload, mac] = token.split('.') as [string, string, string];
  // the payload swapped for one granting another viewer (or a later expiry), the signature kept
  const forged = btoa(JSON.stringify({ p: grant.prefix, e: grant.exp + 86_400, v: 'user-2' })).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  assert.is(await reason(`${kid}.${forged}.${mac}`), 'bad-signature');
  assert.is(await reason(`${kid}.${payload}.${mac.slice(0, -2)}${mac.endsWith('A') ? 'B' : 'A'}A`), 'bad-signature');
  // a 32-byte MAC is 43 characters whose last one carries 2 unused bits: a twin spelling of the same bytes is refused
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(mac.at(-1)!);
  const twin = `${mac.slice(0, -1)}${alphabet[(last & ~3) | ((last + 1) & 3)]}`;
  assert.is.not(twin, mac);
  assert.is.not(await reason(`${kid}.${payload}.${twin}`), 'ok', 'the same MAC spelled another way');
  assert.is(await reason(token, 'vod/22222222-2222-4222-8222-222222222222/seg-00003.ts'), 'other-path');
  assert.is(await reason(token, `${grant.prefix}../22222222-2222-4222-8222-222222222222/seg-00003.ts`), 'other-path', 'no climbing out');
  assert.is(await reason(token, `${grant.prefix}deeper/seg-00003.ts`), 'other-path', 'only files directly under it or in a rendition');
  assert.is(await reason(token, `${grant.prefix}720p/init.mp4`), 'ok', "a rendition's files");
  assert.is(await reason(token, `${grant.prefix}720p/x/init.mp4`), 'other-path', 'no deeper');
  assert.is(await reason(token, `${grant.prefix}720p/`), 'other-path');
  assert.is(await reason(token, grant.prefix), 'other-path', 'not the directory itself');
  for (const bad of ['', 'x', 'k1.a', `${token}.x`, `k1.${'A'.repeat(MAX_TOKEN_LENGTH)}.x`, 'k1.!!.??']) assert.is(await reason(bad), bad.startsWith('k1.!!') ? 'bad-signature' : 'malformed', JSON.stringify(bad.slice(0, 20)));
});

t('keys rotate: the first signs, every listed one verifies, an unlisted kid is refused', async () => {
  const old = await importMediaKeys(parseMediaKeys(`old:${SECRET_A}`));
  const rotated = await importMediaKeys(parseMediaKeys(`new:${SECRET_B}, old:${SECRET_A}`));
  const oldToken = await signMediaToken(grant, old[0]!);
  const newToken = await signMediaToken(grant, rotated[0]!);
  assert.match(newToken, /^new\./);
  assert.ok((await verifyMediaToken(oldToken, seg, rotated, NOW)).ok, 'the old kid still verifies while listed');
  assert.ok((await verifyMediaToken(newToken, seg, rotated, NOW)).ok);
  const dropped = await importMediaKeys(parseMediaKeys(`new:${SECRET_B}`));
  const refused = await verifyMediaToken(oldToken, seg, dropped, NOW);
  assert.is(refused.ok ? 'ok' : refused.reason, 'unknown-key');
  // the same kid with another secret (a key replaced in place) does not verify
  const replaced = await importMediaKeys([{ kid: 'old', secret: SECRET_B }]);
  const r = await verifyMediaToken(oldToken, seg, replaced, NOW);
  assert.is(r.ok ? 'ok' : r.reason, 'bad-signature');
});

t('MEDIA_SIGNING_KEYS parsing says what is wrong', () => {
  assert.equal(parseMediaKeys(`a:${SECRET_A},b_2:${SECRET_B}`), [{ kid: 'a', secret: SECRET_A }, { kid: 'b_2', secret: SECRET_B }]);
  assert.equal(parseMediaKeys(`a:${SECRET_A}:with-colon`)[0]!.secret, `${SECRET_A}:with-colon`);
  assert.throws(() => parseMediaKeys(''), /at least one/);
  assert.throws(() => parseMediaKeys('a:short'), /at least 32/);
  assert.throws(() => parseMediaKeys(SECRET_A), /not kid:secret/);
  assert.throws(() => parseMediaKeys(`a b:${SECRET_A}`), /not kid:secret/);
  assert.throws(() => parseMediaKeys(`a:${SECRET_A},a:${SECRET_B}`), /its own kid/);
});

t('the default key is derived from the session secret: stable, different per secret, not the secret itself', async () => {
  const one = await deriveMediaKey(SECRET_A);
  assert.equal(one, await deriveMediaKey(SECRET_A));
  assert.is.not(one.secret, (await deriveMediaKey(SECRET_B)).secret);
  assert.is.not(one.secret, SECRET_A);
  assert.not.match(one.secret, SECRET_A);
  assert.ok(one.secret.length >= 32);
  assert.match(one.kid, /^auth-[A-Za-z0-9_-]{8}$/);
  assert.is.not(one.kid, (await deriveMediaKey(SECRET_B)).kid, 'a new session secret is a new kid: old links are "no longer in use"');
});

t('parseRange: one range, suffix and open-ended ranges; unsatisfiable ones; anything else serves the whole', () => {
  assert.equal(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.equal(parseRange('bytes=100-', 1000), { start: 100, end: 999 });
  assert.equal(parseRange('bytes=-500', 1000), { start: 500, end: 999 });
  assert.equal(parseRange('bytes=-5000', 1000), { start: 0, end: 999 }, 'a suffix longer than the file is all of it');
  assert.equal(parseRange('bytes=900-5000', 1000), { start: 900, end: 999 }, 'an end past the file is clamped');
  assert.is(parseRange('bytes=1000-', 1000), 'unsatisfiable');
  assert.is(parseRange('bytes=-0', 1000), 'unsatisfiable');
  assert.is(parseRange('bytes=0-', 0), 'unsatisfiable');
  for (const ignored of [null, undefined, '', 'bytes=', 'bytes=-', 'bytes=5-1', 'bytes=0-1,5-9', 'items=0-1', 'bytes=a-b', `bytes=0-${'9'.repeat(200)}`, 'bytes=1234567890123456-']) {
    assert.is(parseRange(ignored, 1000), undefined, String(ignored));
  }
});

t('cache headers: public kinds, a session’s copy private, a token’s copy no longer than the token', () => {
  assert.equal(mediaCacheControl('segment', 'public', NOW), { 'Cache-Control': 'public, max-age=31536000, immutable' });
  assert.equal(mediaCacheControl('live-playlist', 'public', NOW), { 'Cache-Control': 'public, max-age=1' });
  assert.equal(mediaCacheControl('vod-playlist', 'public', NOW), { 'Cache-Control': 'public, max-age=3600' });
  assert.equal(mediaCacheControl('segment', 'session', NOW), { 'Cache-Control': 'private, max-age=31536000, immutable', Vary: 'Cookie' });
  assert.equal(mediaCacheControl('segment', { tokenExp: NOW + 600 }, NOW), { 'Cache-Control': 'public, max-age=600' });
  assert.equal(mediaCacheControl('vod-playlist', { tokenExp: NOW + 7200 }, NOW), { 'Cache-Control': 'public, max-age=3600' });
  assert.equal(mediaCacheControl('segment', { tokenExp: NOW - 5 }, NOW), { 'Cache-Control': 'public, max-age=0' });
});

t('rewritePlaylist points URI lines at a base and gives each the token; tags are left alone', () => {
  const text = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg-00000.ts\n#EXTINF:2.0,\nseg-00001.ts\n#EXT-X-ENDLIST\n';
  assert.is(rewritePlaylist(text, {}), text);
  const out = rewritePlaylist(text, { base: 'https://cdn.example/hls/vod/x/', token: 'k1.p.s' });
  assert.is(out, text.replace(/seg-/g, 'https://cdn.example/hls/vod/x/seg-').replace(/\.ts\n/g, '.ts?token=k1.p.s\n'));
  assert.is(playlistKind(text), 'vod-playlist');
  assert.is(playlistKind(text.replace('#EXT-X-ENDLIST\n', '')), 'live-playlist');
});

t('rewritePlaylist gives the token to a master playlist\'s variant URIs and to EXT-X-MAP\'s init segment', () => {
  const master = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS="avc1.4d401e,mp4a.40.2",RESOLUTION=426x240\n240p/index.m3u8\n';
  assert.is(rewritePlaylist(master, { token: 'k1.p.s' }), master.replace('240p/index.m3u8', '240p/index.m3u8?token=k1.p.s'));
  const media = '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2.0,\nseg-00000.m4s\n#EXT-X-ENDLIST\n';
  const out = rewritePlaylist(media, { base: 'https://cdn.example/hls/vod/x/240p/', token: 'k1.p.s' });
  assert.match(out, /^#EXT-X-MAP:URI="https:\/\/cdn\.example\/hls\/vod\/x\/240p\/init\.mp4\?token=k1\.p\.s"$/m);
  assert.match(out, /^https:\/\/cdn\.example\/hls\/vod\/x\/240p\/seg-00000\.m4s\?token=k1\.p\.s$/m);
  assert.is(rewritePlaylist('https://elsewhere/a.ts\n', { base: 'https://cdn/x/' }), 'https://elsewhere/a.ts\n', 'an absolute URI keeps its origin');
});

t('etagOf is stable per content; If-None-Match matches it, weak or listed', async () => {
  const a = await etagOf(new TextEncoder().encode('#EXTM3U\n'));
  assert.is(a, await etagOf(new TextEncoder().encode('#EXTM3U\n')));
  assert.is.not(a, await etagOf(new TextEncoder().encode('#EXTM3U\n\n')));
  assert.ok(etagMatches(a, a) && etagMatches(`"x", W/${a}`, a) && etagMatches('*', a));
  assert.not.ok(etagMatches('"x"', a) || etagMatches(null, a));
});

t.run();
