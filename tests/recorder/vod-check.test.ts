// The recording suites' decode check on made-up media: a WebRTC recording's irregular capture times pass, a picture cut
// in two (two frames one 90 kHz tick apart, as FFmpeg's RTP demuxer made them) is an error. Files made by FFmpeg.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeWhole } from '../helpers/vod-check.ts';

const t = suite<{ dir: string }>('decoding a recording whole');
t.before(async (ctx) => {
  ctx.dir = await mkdtemp(path.join(os.tmpdir(), 'glint-vod-check-'));
});
t.after(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

/** 3 s of 30 fps H.264 in MPEG-TS, frame 31 moved by `shiftSeconds` (in a 90 kHz clock, no B-frames). */
async function video(dir: string, name: string, shiftSeconds: number): Promise<string> {
  const file = path.join(dir, `${name}.ts`);
  await promisify(execFile)('ffmpeg', [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=30', '-t', '3',
    '-vf', `settb=1/90000,setpts='(N/30+if(eq(N,31),${shiftSeconds},0))/TB'`,
    '-c:v', 'libx264', '-bf', '0', '-fps_mode', 'passthrough', '-enc_time_base', '1:90000', '-f', 'mpegts', file,
  ]);
  return file;
}

t('frames 20 ms apart (a loaded browser) decode clean in the source clock', async ({ dir }) => {
  const d = await decodeWhole(await video(dir, 'jitter', -0.013), { variableFrameRate: true });
  assert.equal(d.errors, []);
});

t('two frames one tick apart (a picture cut in two) are reported', async ({ dir }) => {
  const d = await decodeWhole(await video(dir, 'split', -1 / 30 + 1 / 90000), { variableFrameRate: true });
  assert.is(d.errors.length, 1, JSON.stringify(d.errors));
  assert.match(d.errors[0]!, /video frames 0\.0\d+ ms apart/);
});

t.run();
