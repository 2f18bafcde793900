// The web-standard replacements for what Node's Buffer and zlib did in the portable code: base64 (standard and
// URL-safe), hex, and the PNG chunks' CRC-32, each checked against Node's own on random bytes of every small length.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { base64, base64url, fromBase64, hex, randomBytes } from '../../shared/encoding.ts';
import { crc32 } from '../../api/images.ts';

test('base64, base64url and hex spell bytes as Buffer does, and fromBase64 reads both alphabets back', () => {
  for (let n = 0; n < 300; n++) {
    const bytes = new Uint8Array(nodeRandomBytes(n));
    const buf = Buffer.from(bytes);
    assert.is(base64(bytes), buf.toString('base64'), `base64 of ${n} bytes`);
    assert.is(base64url(bytes), buf.toString('base64url'), `base64url of ${n} bytes`);
    assert.is(hex(bytes), buf.toString('hex'), `hex of ${n} bytes`);
    assert.equal(fromBase64(base64(bytes)), bytes);
    assert.equal(fromBase64(base64url(bytes)), bytes);
  }
  assert.is(base64(new Uint8Array(200_000).fill(0xfb)).length, Math.ceil(200_000 / 3) * 4, 'a large input is not spread onto the stack at once');
  assert.throws(() => fromBase64('not base64!'));
});

test('randomBytes gives n bytes from the CSPRNG, different each time', () => {
  assert.is(randomBytes(32).length, 32);
  assert.is.not(hex(randomBytes(32)), hex(randomBytes(32)));
});

test("crc32 is zlib's (the checksum PNG chunks carry)", () => {
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926, 'the check value of CRC-32/ISO-HDLC');
  for (let n = 0; n < 600; n++) {
    const bytes = new Uint8Array(nodeRandomBytes(n));
    assert.is(crc32(bytes), zlibCrc32(bytes), `${n} bytes`);
  }
});

test.run();
