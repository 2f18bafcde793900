// Shared by the SFU benchmarks (fan-out, viewer farm): what the SFU's mediasoup workers cost, read from /proc, and
// the fit that turns steps of viewers into a per-viewer figure, and the camera clip the publisher plays.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '../tests/helpers/api.ts';

/** USER_HZ on Linux: /proc/<pid>/stat counts CPU time in these ticks. */
const TICK = 100;

export type Usage = { ticks: number; sysTicks: number; rssKb: number };

/** CPU ticks (user + kernel, and kernel alone) and resident memory of one process. */
export async function processUsage(pid: number): Promise<Usage> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return { ticks: Number(stat[11]) + Number(stat[12]), sysTicks: Number(stat[12]), rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)![1]) };
}

/** The whole machine's CPU ticks (busy = everything but idle and iowait, over all cores), from /proc/stat: what
 * else ran beside a benchmark on a shared machine. */
export async function machineUsage(): Promise<{ busy: number; all: number }> {
  const f = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const all = f.reduce((a, b) => a + b, 0);
  return { busy: all - f[3]! - f[4]!, all };
}

/** Several processes together: one channel's viewers are served by branch routers on every worker (sfu/Fanout.ts),
 * fed by pipes from the room's router, so the room's own worker is not the whole cost. */
export async function totalUsage(pids: number[]): Promise<Usage> {
  const all = await Promise.all(pids.map(processUsage));
  return { ticks: all.reduce((s, p) => s + p.ticks, 0), sysTicks: all.reduce((s, p) => s + p.sysTicks, 0), rssKb: all.reduce((s, p) => s + p.rssKb, 0) };
}

/** CPU between two readings `seconds` apart, as % of one core: all of it and the kernel's part. */
export const cpuPercent = (a: Usage, b: Usage, seconds: number) => ({
  cpu: ((b.ticks - a.ticks) / TICK / seconds) * 100,
  sys: ((b.sysTicks - a.sysTicks) / TICK / seconds) * 100,
});

/** Least-squares slope of ys over xs (the per-viewer cost over steps of viewers). */
export const slope = (xs: number[], ys: number[]) => {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return num / den;
};

/** A channel owned by `owner` and a stream key to publish to it. */
export async function benchChannel(owner: Client, slug: string, title: string): Promise<string> {
  if ((await owner.post('/api/channels', { slug, title })).status !== 201) throw new Error(`channel ${slug}`);
  return (await owner.post(`/api/channels/${slug}/stream-keys`, { label: 'bench' })).body.key as string;
}

/** The camera clip (y4m, which Chromium's fake capture device loops), made once with FFmpeg. */
export function cameraClip(): string {
  const file = path.join(os.tmpdir(), 'glint-bench-720p30-noise.y4m');
  if (!existsSync(file)) {
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30,noise=alls=25:allf=t+u', '-t', '3', '-pix_fmt', 'yuv420p', file]);
  }
  return file;
}
