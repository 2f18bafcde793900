// Uploaded images (channel avatars) are checked from their bytes before anything stores or decodes them: the format
// the magic bytes say matches the declared Content-Type, the file's own structure is whole (every chunk, segment or
// block in bounds, up to its end marker, nothing after it), and the dimensions in its header are within a cap, so a
// 1×1 file cannot claim 65535×65535 and make a decoder (the browser, a thumbnailer) allocate for it. Nothing here
// decompresses pixel data; the walk is linear in the file's size, which the body limit has already bounded.
import { AVATAR_TYPES } from '../shared/rules.ts';

export const IMAGE_TYPES = AVATAR_TYPES;
export type ImageType = (typeof IMAGE_TYPES)[number];

export type Probe = { ok: true; type: ImageType; width: number; height: number } | { ok: false; reason: string };

const be16 = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const be32 = (b: Uint8Array, i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const le16 = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const le24 = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const le32 = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
const ascii = (b: Uint8Array, i: number, n: number) => String.fromCharCode(...b.subarray(i, i + n));

/**
 * CRC-32 (ISO-HDLC, zlib's, the one PNG chunks carry), four bytes a step ("slicing by 4": four 256-entry tables),
 * so a whole upload at MAX_UPLOAD_BYTES is checked in a few milliseconds.
 */
const CRC_TABLES = (() => {
  const t = new Uint32Array(4 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) for (let s = 1; s < 4; s++) t[s * 256 + n] = (t[(s - 1) * 256 + n]! >>> 8) ^ t[t[(s - 1) * 256 + n]! & 0xff]!;
  return t;
})();
export function crc32(bytes: Uint8Array): number {
  const t = CRC_TABLES;
  let c = 0xffffffff;
  let i = 0;
  for (const end = bytes.length - 3; i < end; i += 4) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

class Refusal extends Error {}
const refuse = (reason: string): never => {
  throw new Refusal(reason);
};
const need = (b: Uint8Array, end: number, what: string) => {
  if (end > b.length) refuse(`The image is cut short (${what} runs past the end of the file).`);
};

/** The format the magic bytes say, whatever the declared type. */
export function sniffImage(b: Uint8Array): ImageType | undefined {
  if (b.length >= 8 && be32(b, 0) === 0x89504e47 && be32(b, 4) === 0x0d0a1a0a) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return 'image/gif';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'image/webp';
  return undefined;
}

function png(b: Uint8Array): [number, number] {
  let at = 8;
  let size: [number, number] | undefined;
  let data = false;
  for (;;) {
    need(b, at + 12, 'a PNG chunk header');
    const len = be32(b, at);
    const type = ascii(b, at + 4, 4);
    need(b, at + 12 + len, `the PNG ${type} chunk`);
    if (crc32(b.subarray(at + 4, at + 8 + len)) !== be32(b, at + 8 + len)) refuse(`The PNG ${type} chunk is corrupt (checksum).`);
    if (!size) {
      if (type !== 'IHDR' || len !== 13) refuse('The PNG does not start with its header (IHDR).');
      size = [be32(b, at + 8), be32(b, at + 12)];
    }
    if (type === 'IDAT') data = true;
    at += 12 + len;
    if (type === 'IEND') break;
  }
  if (!data) refuse('The PNG has no image data.');
  if (at !== b.length) refuse('The PNG has data after its end (IEND).');
  return size!;
}

function jpeg(b: Uint8Array): [number, number] {
  let at = 2;
  let size: [number, number] | undefined;
  for (;;) {
    need(b, at + 2, 'a JPEG marker');
    if (b[at] !== 0xff) refuse('The JPEG is malformed (a segment does not start with a marker).');
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd9) {
      at += 2;
      break;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    need(b, at + 4, 'a JPEG segment length');
    const len = be16(b, at + 2);
    if (len < 2) refuse('The JPEG is malformed (a segment is shorter than its own length field).');
    need(b, at + 2 + len, 'a JPEG segment');
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof) {
      if (len < 8) refuse('The JPEG frame header is too short.');
      size = [be16(b, at + 7), be16(b, at + 5)];
    }
    at += 2 + len;
    if (marker === 0xda) {
      if (!size) refuse('The JPEG has scan data before its frame header.');
      // entropy-coded data: runs to the next marker that is neither a stuffed 0xFF00 nor a restart
      for (;;) {
        need(b, at + 2, 'the JPEG scan data');
        if (b[at] === 0xff && b[at + 1] !== 0x00 && !(b[at + 1]! >= 0xd0 && b[at + 1]! <= 0xd7)) break;
        at++;
      }
    }
  }
  if (!size) refuse('The JPEG has no frame header.');
  if (at !== b.length) refuse('The JPEG has data after its end (EOI).');
  return size!;
}

function gif(b: Uint8Array, maxSide: number): [number, number] {
  need(b, 13, 'the GIF header');
  const size: [number, number] = [le16(b, 6), le16(b, 8)];
  let at = 13 + (b[10]! & 0x80 ? 3 * (2 << (b[10]! & 7)) : 0);
  const subBlocks = (what: string) => {
    for (;;) {
      need(b, at + 1, what);
      const n = b[at]!;
      at += 1 + n;
      if (n === 0) return;
    }
  };
  let frames = 0;
  for (;;) {
    need(b, at + 1, 'a GIF block');
    const kind = b[at]!;
    if (kind === 0x3b) {
      at++;
      break;
    }
    if (kind === 0x21) {
      at += 2;
      subBlocks('a GIF extension');
    } else if (kind === 0x2c) {
      need(b, at + 10, 'a GIF image descriptor');
      if (le16(b, at + 5) > maxSide || le16(b, at + 7) > maxSide) refuse(`A GIF frame is larger than ${maxSide}×${maxSide}.`);
      const packed = b[at + 9]!;
      at += 10 + (packed & 0x80 ? 3 * (2 << (packed & 7)) : 0);
      at += 1; // LZW minimum code size
      subBlocks('GIF image data');
      frames++;
    } else {
      refuse('The GIF is malformed (an unknown block).');
    }
  }
  if (!frames) refuse('The GIF has no image.');
  if (at !== b.length) refuse('The GIF has data after its end (trailer).');
  return size;
}

function webp(b: Uint8Array): [number, number] {
  const riff = le32(b, 4);
  if (riff + 8 !== b.length) refuse(riff + 8 > b.length ? 'The image is cut short (the WebP is shorter than its RIFF size).' : 'The WebP has data after its end (RIFF size).');
  let at = 12;
  let size: [number, number] | undefined;
  let image = false;
  while (at < b.length) {
    need(b, at + 8, 'a WebP chunk header');
    const type = ascii(b, at, 4);
    const len = le32(b, at + 4);
    const body = at + 8;
    need(b, body + len, `the WebP ${type.trim()} chunk`);
    if (type === 'VP8X') {
      if (len < 10) refuse('The WebP extended header is too short.');
      size = [le24(b, body + 4) + 1, le24(b, body + 7) + 1];
    } else if (type === 'VP8 ') {
      if (len < 10 || b[body + 3] !== 0x9d || b[body + 4] !== 0x01 || b[body + 5] !== 0x2a) refuse('The WebP (lossy) frame header is malformed.');
      size ??= [le16(b, body + 6) & 0x3fff, le16(b, body + 8) & 0x3fff];
      image = true;
    } else if (type === 'VP8L') {
      if (len < 5 || b[body] !== 0x2f) refuse('The WebP (lossless) header is malformed.');
      const bits = le32(b, body + 1);
      size ??= [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
      image = true;
    } else if (type === 'ANMF') {
      image = true;
    }
    at = body + len + (len & 1);
  }
  if (at !== b.length) refuse('The image is cut short (the last WebP chunk is missing its padding).');
  if (!size || !image) refuse('The WebP has no image.');
  return size!;
}

/**
 * Checks an upload declared as `declared` against its bytes: the same format, whole, and at most `maxSide` pixels
 * on either side. Never throws; a refusal says what is wrong in words a person can act on.
 */
export function probeImage(bytes: Uint8Array, declared: string, maxSide: number): Probe {
  const actual = sniffImage(bytes);
  if (!actual) return { ok: false, reason: `The file is not a ${declared} image (nor any image type accepted here).` };
  if (actual !== declared) return { ok: false, reason: `The file is a ${actual} image, not ${declared} as its Content-Type says.` };
  try {
    const [width, height] = actual === 'image/png' ? png(bytes) : actual === 'image/jpeg' ? jpeg(bytes) : actual === 'image/gif' ? gif(bytes, maxSide) : webp(bytes);
    if (width < 1 || height < 1) return { ok: false, reason: `The image says it is ${width}×${height} pixels.` };
    if (width > maxSide || height > maxSide) return { ok: false, reason: `The image is ${width}×${height} pixels; at most ${maxSide}×${maxSide} are accepted.` };
    return { ok: true, type: actual, width, height };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, reason: err.message };
    throw err;
  }
}

/**
 * Headers for serving a stored upload as what it is: an image that is also valid HTML or script (a polyglot) stays an
 * image (no sniffing), and opened on its own it runs nothing and reaches nothing.
 */
export const servedImageHeaders = (type: string, size: number, maxAgeSeconds: number): Record<string, string> => ({
  'Content-Type': type,
  'Content-Length': String(size),
  'Cache-Control': `public, max-age=${maxAgeSeconds}`,
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; sandbox",
});
