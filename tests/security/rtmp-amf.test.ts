// sfu/rtmp/amf.ts: the AMF0 walk that runs before node-media-server's decoder. It must accept what encoders send,
// refuse what the decoder would choke on, and — the property that matters — whatever it accepts, the decoder decodes
// without throwing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeAmf0Cmd, decodeAmf0Data, encodeAmf0Cmd, encodeAmf0Data } from 'node-media-server/src/protocol/amf.js';
import { AmfError, MAX_AMF_DEPTH, checkAmf0 } from '../../sfu/rtmp/amf.ts';
import '../../sfu/rtmp/RtmpProtocol.ts'; // quiets node-media-server's console logging, as the RTMP server does
import { rng } from '../helpers/rtmp-fuzz.ts';

const t = suite('RTMP AMF0 check');

const connect = encodeAmf0Cmd({ cmd: 'connect', transId: 1, cmdObj: { app: 'live', type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)', tcUrl: 'rtmp://127.0.0.1/live', fpad: false, capabilities: 15, audioCodecs: 4071, videoCodecs: 252, videoFunction: 1 } });
const publish = encodeAmf0Cmd({ cmd: 'publish', transId: 5, cmdObj: null, streamName: 'glint_key', type: 'live' });
const metadata = encodeAmf0Data({ cmd: '@setDataFrame', method: 'onMetaData', dataObj: { duration: 0, width: 1280, height: 720, videodatarate: 2500, framerate: 30, videocodecid: 7, audiodatarate: 160, audiosamplerate: 48000, audiosamplesize: 16, stereo: true, audiocodecid: 10, encoder: 'obs-output module (libobs version 30.1.2)', filesize: 0 } });
const nested = (depth: number) => Buffer.concat([...Array.from({ length: depth }, () => Buffer.from([0x03, 0x00, 0x01, 0x61])), Buffer.from([0x05]), ...Array.from({ length: depth }, () => Buffer.from([0x00, 0x00, 0x09]))]);

const refuses = (buf: Buffer, what: RegExp) => {
  try {
    checkAmf0(buf);
    assert.unreachable('accepted');
  } catch (err) {
    assert.instance(err, AmfError);
    assert.match((err as Error).message, what);
  }
};

t('accepts the commands and metadata encoders send (connect, publish, onMetaData)', () => {
  for (const b of [connect, publish, metadata]) checkAmf0(b);
  checkAmf0(nested(MAX_AMF_DEPTH));
});

t('refuses every value cut short, from each type marker to the end', () => {
  for (const b of [connect, metadata]) for (let cut = 1; cut < b.length; cut++) {
    try {
      checkAmf0(b.subarray(0, cut));
    } catch (err) {
      assert.instance(err, AmfError);
      continue;
    }
    // a cut between two complete top-level values is a shorter, valid sequence
    assert.not.throws(() => decodeAmf0Cmd(b.subarray(0, cut)));
  }
  refuses(Buffer.from([0x00, 1, 2]), /runs past the end/);
  refuses(Buffer.from([0x0c, 0xff, 0xff, 0xff, 0xff, 0x41]), /runs past the end/);
});

t('refuses unknown and unsupported types, nesting past the bound, lying counts, and names the decoder misreads', () => {
  for (const type of [0x04, 0x09, 0x0d, 0x0e, 0x0f, 0x11, 0x7f, 0xff]) refuses(Buffer.from([type, 0, 0, 0, 0]), /type 0x/);
  refuses(nested(MAX_AMF_DEPTH + 1), /deeper than/);
  refuses(nested(10_000), /deeper than/);
  refuses(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x05]), /strict array/);
  refuses(Buffer.from([0x03, 0x00, 0x00, 0x05, 0x00, 0x00, 0x09]), /empty name/);
  refuses(Buffer.concat([Buffer.from([0x03, 0x09, 0x00]), Buffer.alloc(0x900, 0x61), Buffer.from([0x05, 0, 0, 9])]), /property name of 2304 bytes/);
  refuses(Buffer.concat([Buffer.from([0x03, 0x00, 0x09]), Buffer.from('__proto__'), Buffer.from([0x03, 0, 0, 9, 0, 0, 9])]), /__proto__/);
});

t('whatever the check accepts of 20,000 mutated commands and metadata, node-media-server decodes without throwing', () => {
  const r = rng(7);
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const base = Buffer.from(r.pick([connect, publish, metadata]));
    for (let n = 1 + r.int(4); n > 0; n--) {
      const at = r.int(base.length);
      const op = r.int(3);
      if (op === 0) base[at] = r.int(256);
      else if (op === 1) base[at] = r.pick([0x00, 0x01, 0x02, 0x03, 0x05, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x10]);
      else base[at]! ^= 1 << r.int(8);
    }
    const cut = r.next() < 0.2 ? base.subarray(0, r.int(base.length)) : base;
    try {
      checkAmf0(cut);
    } catch (err) {
      assert.instance(err, AmfError);
      continue;
    }
    accepted++;
    try {
      decodeAmf0Cmd(cut);
      decodeAmf0Data(cut);
    } catch (err) {
      assert.unreachable(`accepted ${cut.toString('hex')}, then node-media-server threw ${err}`);
    }
  }
  assert.ok(accepted > 1000, `${accepted} mutations were still valid AMF0 (the property is not vacuous)`);
});

t.run();
