// @runtime-matrix
// Avatar uploads are checked from their bytes before anything stores or decodes them (api/images.ts), and served
// only as the image they are.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { probeImage } from '../../api/images.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';

type Fixture = { type: string; bytes: Buffer };
const t = suite<{ api: TestApi; owner: Client; images: Record<string, Fixture> }>('avatars');

/** Real files from FFmpeg's encoders: PNG, baseline JPEG, GIF, lossy and lossless WebP, animated GIF and WebP. */
function encode(): Record<string, Fixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'glint-avatars-'));
  const make = (name: string, args: string[]) => {
    const file = path.join(dir, name);
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5', ...args, file]);
    return readFileSync(file);
  };
  try {
    return {
      png: { type: 'image/png', bytes: make('a.png', ['-frames:v', '1']) },
      jpeg: { type: 'image/jpeg', bytes: make('a.jpg', ['-frames:v', '1']) },
      gif: { type: 'image/gif', bytes: make('a.gif', ['-frames:v', '1']) },
      webp: { type: 'image/webp', bytes: make('a.webp', ['-frames:v', '1', '-c:v', 'libwebp']) },
      webpLossless: { type: 'image/webp', bytes: make('b.webp', ['-frames:v', '1', '-c:v', 'libwebp', '-lossless', '1']) },
      gifAnimated: { type: 'image/gif', bytes: make('c.gif', ['-frames:v', '4']) },
      webpAnimated: { type: 'image/webp', bytes: make('c.webp', ['-frames:v', '4', '-c:v', 'libwebp_anim', '-loop', '0']) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pngChunk = (type: string, data: Buffer) => {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
};
/** A real PNG whose header (with a correct checksum) claims another size. */
function pngClaiming(png: Buffer, width: number, height: number): Buffer {
  const ihdr = Buffer.from(png.subarray(16, 29));
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  return Buffer.concat([png.subarray(0, 8), pngChunk('IHDR', ihdr), png.subarray(33)]);
}
/** A real PNG with a chunk inserted after its header. */
const pngWith = (png: Buffer, chunk: Buffer) => Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);

t.before(async (ctx) => {
  ctx.images = encode();
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Owner');
  assert.is((await ctx.owner.post('/api/channels', { slug: 'pic', title: 'Pic' })).status, 201);
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

const upload = (owner: Client, bytes: Buffer, type: string) => owner.put('/api/channels/pic/avatar', { body: new Uint8Array(bytes), headers: { 'content-type': type } });

function refused(r: { status: number; headers: Headers; body: any; text: string }, detail: RegExp) {
  assert.is(r.status, 400, `${r.status} ${r.text.slice(0, 200)}`);
  assert.is(r.headers.get('content-type'), 'application/problem+json');
  assert.match(r.body.detail, detail);
}

t('PUT /api/channels/:slug/avatar takes real PNG, JPEG, GIF and WebP files (still and animated), read as 64×48', async ({ owner, images }) => {
  for (const [name, { type, bytes }] of Object.entries(images)) {
    const probe = probeImage(bytes, type, 4096);
    assert.equal(probe, { ok: true, type, width: 64, height: 48 }, name);
    assert.is((await upload(owner, bytes, type)).status, 200, name);
  }
});

t('GET /api/channels/:slug/avatar serves a polyglot only as its image type: nosniff, sandboxed, inline', async ({ api, owner, images }) => {
  const html = Buffer.from('<!doctype html><html><script>alert(document.cookie)</script></html>', 'latin1');
  const polyglot = pngWith(images.png!.bytes, pngChunk('tEXt', Buffer.concat([Buffer.from('Comment\0'), html])));
  const up = await upload(owner, polyglot, 'image/png');
  assert.is(up.status, 200);
  const served = await fetch(api.base + up.body.avatarUrl);
  assert.is(served.status, 200);
  assert.is(served.headers.get('content-type'), 'image/png');
  assert.is(served.headers.get('x-content-type-options'), 'nosniff');
  assert.match(served.headers.get('content-security-policy') ?? '', /default-src 'none'.*sandbox/);
  assert.match(served.headers.get('content-disposition') ?? '', /^inline; filename="pic\.png"$/);
  assert.equal(Buffer.from(await served.arrayBuffer()), polyglot, 'the same bytes');
});

t('an avatar whose bytes are another format than its Content-Type is 400', async ({ owner, images }) => {
  refused(await upload(owner, images.png!.bytes, 'image/jpeg'), /image\/png.*not image\/jpeg/);
  refused(await upload(owner, images.webp!.bytes, 'image/gif'), /image\/webp/);
  refused(await upload(owner, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/png'), /not a image\/png/);
});

t('a truncated avatar is 400, in every format', async ({ owner, images }) => {
  for (const { type, bytes } of Object.values(images)) {
    for (const keep of [bytes.length - 1, Math.floor(bytes.length / 2), 20]) {
      refused(await upload(owner, bytes.subarray(0, keep), type), /cut short|corrupt|malformed|no image|no frame|end/);
    }
  }
});

t('an avatar whose header claims 65535×65535 (or more than 4096 on a side) is 400 before anything decodes it', async ({ owner, images }) => {
  refused(await upload(owner, pngClaiming(images.png!.bytes, 65535, 65535), 'image/png'), /65535×65535 pixels; at most 4096×4096/);
  refused(await upload(owner, pngClaiming(images.png!.bytes, 4097, 1), 'image/png'), /4097×1/);
  refused(await upload(owner, pngClaiming(images.png!.bytes, 0, 48), 'image/png'), /0×48/);
  const gif = Buffer.from(images.gif!.bytes);
  gif.writeUInt16LE(65535, 6);
  gif.writeUInt16LE(65535, 8);
  refused(await upload(owner, gif, 'image/gif'), /65535×65535/);
  const jpeg = Buffer.from(images.jpeg!.bytes);
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  assert.ok(sof > 0, 'the JPEG has a baseline frame header');
  jpeg.writeUInt16BE(65535, sof + 5);
  jpeg.writeUInt16BE(65535, sof + 7);
  refused(await upload(owner, jpeg, 'image/jpeg'), /65535×65535/);
  const webp = Buffer.from(images.webp!.bytes);
  const vp8 = webp.indexOf('VP8 ', 12, 'latin1');
  webp.writeUInt16LE(16383, vp8 + 8 + 6);
  refused(await upload(owner, webp, 'image/webp'), /16383×48/);
});

t('data after the image\'s end (an appended page or archive) is 400', async ({ owner, images }) => {
  const tail = Buffer.from('<html><script>alert(1)</script></html>');
  for (const { type, bytes } of Object.values(images)) {
    refused(await upload(owner, Buffer.concat([bytes, tail]), type), /after its end|RIFF size/);
  }
});

t('probeImage never throws and stays linear on mutated files (fuzz)', ({ images }) => {
  const seconds = Number(process.env.GLINT_FUZZ_SECONDS ?? 1);
  const until = Date.now() + seconds * 1000;
  let runs = 0;
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  const files = Object.values(images);
  while (Date.now() < until) {
    const { type, bytes } = files[rand(files.length)]!;
    const b = Buffer.from(bytes);
    for (let k = 1 + rand(8); k > 0; k--) {
      const op = rand(3);
      if (op === 0) b[rand(b.length)] = rand(256);
      else if (op === 1) b.writeUInt32BE(rand(2 ** 32), rand(b.length - 4));
      else b.fill(0xff, rand(b.length), rand(b.length));
    }
    const cut = rand(4) === 0 ? b.subarray(0, rand(b.length)) : b;
    const started = performance.now();
    const probe = probeImage(cut, type, 4096);
    assert.ok(performance.now() - started < 500, 'bounded time (a blow-up, not a slow machine)');
    if (probe.ok) assert.ok(probe.width <= 4096 && probe.height <= 4096);
    runs++;
  }
  assert.ok(runs > 100, `${runs} runs`);
});

t.run();
