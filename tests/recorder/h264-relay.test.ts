// The recorder's H.264 relay: parameter sets and delimiters a payloader repeats after a slice of the same picture are
// dropped (in STAP-A packets too) so FFmpeg's parser sees one access unit per picture; the rest passes unchanged, and
// sequence numbers stay contiguous so FFmpeg sees no loss. Recorded end to end with GStreamer in the matrix suite.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { H264AccessUnits } from '../../recorder/h264-relay.ts';

const t = suite('H.264 access units for FFmpeg');

/** An RTP packet (payload type 102) carrying `payload`. */
function rtp(seq: number, timestamp: number, payload: number[], opts: { marker?: boolean; csrcs?: number; padding?: number } = {}): Buffer {
  const csrcs = opts.csrcs ?? 0;
  const head = Buffer.alloc(12 + csrcs * 4);
  head[0] = 0x80 | csrcs | (opts.padding ? 0x20 : 0);
  head[1] = (opts.marker ? 0x80 : 0) | 102;
  head.writeUInt16BE(seq & 0xffff, 2);
  head.writeUInt32BE(timestamp >>> 0, 4);
  head.writeUInt32BE(0x1234, 8);
  const pad = opts.padding ? [...Array(opts.padding - 1).fill(0), opts.padding] : [];
  return Buffer.concat([head, Buffer.from(payload), Buffer.from(pad)]);
}
const nal = (type: number, bytes = 3) => [0x60 | type, ...Array(bytes).fill(0xab)];
const stapA = (...nals: number[][]) => [24, ...nals.flatMap((n) => [n.length >> 8, n.length & 0xff, ...n])];
const nalTypes = (p: Buffer) => {
  const payload = p.subarray(12 + (p[0]! & 0x0f) * 4);
  if ((payload[0]! & 0x1f) !== 24) return [payload[0]! & 0x1f];
  const types: number[] = [];
  for (let at = 1; at + 2 <= payload.length; at += 2 + payload.readUInt16BE(at)) types.push(payload[at + 2]! & 0x1f);
  return types;
};

t('GStreamer rtph264pay config-interval=-1 with two IDR slices: the second SPS/PPS go, the slices stay', () => {
  const units = new H264AccessUnits();
  const input = [
    rtp(100, 9000, nal(7)), rtp(101, 9000, nal(8)), rtp(102, 9000, nal(5)),
    rtp(103, 9000, nal(7)), rtp(104, 9000, nal(8)), rtp(105, 9000, nal(5), { marker: true }),
    rtp(106, 12000, nal(1)), rtp(107, 12000, nal(1), { marker: true }),
  ];
  const out = input.map((p) => units.rewrite(p)).filter((p): p is Buffer => !!p);
  assert.equal(out.map(nalTypes), [[7], [8], [5], [5], [1], [1]]);
  assert.equal(out.map((p) => p.readUInt16BE(2)), [100, 101, 102, 103, 104, 105], 'contiguous sequence numbers');
  assert.equal(out.map((p) => p.readUInt32BE(4)), [9000, 9000, 9000, 9000, 12000, 12000], 'timestamps untouched');
  assert.ok(out.at(-1)![1]! & 0x80, 'the marker bit is kept');
});

t('STAP-A (aggregate-mode=zero-latency): repeated parameter sets leave the aggregate, an aggregate of only those goes', () => {
  const units = new H264AccessUnits();
  const first = units.rewrite(rtp(1, 0, stapA(nal(9, 1), nal(7), nal(8), nal(5))))!;
  assert.equal(nalTypes(first), [9, 7, 8, 5], 'the picture’s own parameter sets stay');
  assert.is(units.rewrite(rtp(2, 0, stapA(nal(7), nal(8)))), null);
  const mixed = units.rewrite(rtp(3, 0, stapA(nal(7), nal(8), nal(5))))!;
  assert.equal(nalTypes(mixed), [5]);
  assert.is(mixed.readUInt16BE(2), 2);
  const next = units.rewrite(rtp(4, 3000, stapA(nal(7), nal(8), nal(5), nal(5))))!;
  assert.equal(nalTypes(next), [7, 8, 5, 5], 'a new picture starts clean');
  assert.is(next.readUInt16BE(2), 3);
});

t('FU-A: a fragmented slice counts as a slice; sequence numbers wrap', () => {
  const units = new H264AccessUnits();
  const fuStart = [28, 0x80 | 5, 1, 2, 3];
  const fuEnd = [28, 0x40 | 5, 4, 5, 6];
  const out = [
    rtp(65534, 5, fuStart), rtp(65535, 5, fuEnd), rtp(0, 5, nal(7)), rtp(1, 5, nal(8)), rtp(2, 5, fuStart), rtp(3, 5, fuEnd), rtp(4, 10, nal(1)),
  ].map((p) => units.rewrite(p)).filter((p): p is Buffer => !!p);
  assert.equal(out.map((p) => p.readUInt16BE(2)), [65534, 65535, 0, 1, 2]);
});

t('CSRCs, header extensions and padding are read past; other payloads and malformed packets pass unchanged', () => {
  const units = new H264AccessUnits();
  const withCsrc = rtp(10, 1, nal(5), { csrcs: 2 });
  assert.is(units.rewrite(withCsrc), withCsrc);
  assert.is(units.rewrite(rtp(11, 1, nal(7), { csrcs: 2 })), null, 'the SPS after the slice, behind two CSRCs');
  const ext = rtp(12, 1, [0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0, ...nal(8)]);
  ext[0]! |= 0x10;
  assert.is(units.rewrite(ext), null, 'the PPS after the slice, behind a header extension');
  const padded = units.rewrite(rtp(13, 1, stapA(nal(7), nal(5)), { padding: 4 }))!;
  assert.equal(nalTypes(padded), [5]);
  assert.is(padded[0]! & 0x20, 0, 'the rewritten packet carries no padding');
  assert.is(padded.readUInt16BE(2), 11);
  for (const junk of [Buffer.alloc(5), Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]), rtp(14, 2, [24, 0, 99, 0x67])]) {
    const out = units.rewrite(junk);
    assert.ok(out, 'passed on');
  }
});

t.run();
