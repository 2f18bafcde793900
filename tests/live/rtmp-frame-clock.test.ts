// The RTMP bridge's frame clock: FLV stamps frames to the millisecond, so a copied 30 fps stream arrives 33, 33 and
// 34 ms apart; the bridge finds the nominal rate and FFmpeg's setts filter (frameClock) restamps every frame exactly
// one frame after the last, keeping real gaps. Checked on real FFmpeg output.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type AVPacket from 'node-media-server/src/core/avpacket.js';
import { frameClock } from '../../sfu/rtmp/bridge.ts';
import { frameRateOf } from '../../sfu/rtmp/flv.ts';

const run = promisify(execFile);
const t = suite('RTMP frame clock');

const frames = (times: number[]) => times.map((dts) => ({ codec_type: 9, flags: 4, dts, pts: dts }) as AVPacket);

t('frameRateOf takes the declared rate, else the frames\' spacing, snapped to a standard rate', () => {
  assert.is(frameRateOf(29.97, []), 30000 / 1001);
  assert.is(frameRateOf(30, []), 30);
  assert.is(frameRateOf(undefined, frames([0, 33, 67, 100, 133, 167, 200, 233, 267, 300])), 30);
  assert.is(frameRateOf(undefined, frames([0, 40, 80, 120])), 25);
  assert.is(frameRateOf(undefined, frames([0, 70, 90, 250])), undefined, 'no standard rate: frames keep their own times');
  assert.is(frameRateOf(undefined, frames([5])), undefined);
});

t('frameClock restamps copied FLV frames 3000 ticks apart at 30 fps, and keeps a dropped frame\'s gap', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glint-clock-'));
  try {
    const flv = path.join(dir, 'in.flv');
    // frame 45 dropped, as an encoder under load does
    await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-frames:v', '90', '-vf', 'select=not(eq(n\\,45))', '-fps_mode', 'passthrough', '-c:v', 'libx264', '-profile:v', 'baseline', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-f', 'flv', flv]);
    const ticks = async (bsf: string) => {
      const out = path.join(dir, 'out.ts');
      await run('ffmpeg', ['-v', 'error', '-y', '-i', flv, '-c:v', 'copy', '-copyts', '-bsf:v', bsf, '-f', 'mpegts', out]);
      const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'packet=pts', '-of', 'csv=p=0', out]);
      const pts = stdout.split('\n').map((l) => Number.parseInt(l, 10)).filter((n) => n > 0);
      return pts.slice(1).map((p, i) => p - pts[i]!);
    };
    const raw = await ticks('h264_mp4toannexb');
    assert.ok(raw.some((d) => d !== 3000), `FLV's millisecond times are uneven: ${[...new Set(raw)]}`);
    const clocked = await ticks(`h264_mp4toannexb,${frameClock(30)}`);
    assert.is(clocked.length, 89); // 90 frames written
    const uneven = clocked.filter((d) => d !== 3000);
    // the frame after the drop keeps its own time (two frames on, to FLV's millisecond), and the clock follows it
    assert.is(uneven.length, 1, `every frame one frame after the last but one: ${[...new Set(clocked)]}`);
    assert.ok(Math.abs(uneven[0]! - 6000) <= 135, `the drop is kept: ${uneven[0]} ticks`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

t.run();
