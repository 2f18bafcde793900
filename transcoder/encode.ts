// The FFmpeg children of a transcode: the probe, one encode per rendition (HLS fMP4), and the image grabs. Each runs
// niced below live ingest and recording (TRANSCODE_NICE), each thread of it, so a transcode yields the CPU to a
// broadcast; an encode reporting no progress for TRANSCODE_STALL_SECONDS is killed (the job is then retried).
import { readdirSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ffmpeg, { type FfmpegCommand } from 'fluent-ffmpeg';
import type { ChildGroup } from '../shared/children.ts';
import { FfmpegProcess, runOnce } from '../shared/ffmpeg.ts';
import type { Logger } from '../shared/logger.ts';
import { GOP_SECONDS, h264Level, h264Profile, storyboardPlan, type Rendition, type SourceInfo } from '../shared/vod-ladder.ts';

/** A probe reads a source's header; far longer than this is an unreachable input. */
const PROBE_TIMEOUT_MS = 60_000;
/** One image grab seeks and decodes a frame; a storyboard decodes the whole source (an hour of 1080p, a few minutes). */
const FRAME_TIMEOUT_MS = 60_000;
const STORYBOARD_TIMEOUT_MS = 30 * 60_000;
/** From the stop of a stalled or cancelled encode to SIGKILL. */
const KILL_MS = 2000;

export type EncodeEnv = { group: ChildGroup; log: Logger; nice: number; stallSeconds: number };

/** Lowers a child's priority, every thread of it (Linux sets niceness per thread; threads made later inherit it). */
export function renice(pid: number | undefined, nice: number) {
  if (!pid || nice <= 0) return;
  let tids: string[] = [String(pid)];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    // not Linux, or the child is gone: its main thread only
  }
  for (const tid of tids) {
    try {
      os.setPriority(Number(tid), nice);
    } catch {
      // the thread ended meanwhile
    }
  }
}

/**
 * What FFmpeg reports of a source as it opens it: its first video stream's size and frame rate (swapped when a
 * rotation makes a phone's portrait video), whether it has audio, its duration and bitrate. Null when it has no video.
 */
export function parseProbe(stderr: string[]): SourceInfo | null {
  let info: SourceInfo | null = null;
  let hasAudio = false;
  let durationSeconds = 0;
  let bitrate = 0;
  let rotated = false;
  for (const line of stderr) {
    const d = /^\s*Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)/.exec(line);
    if (d) durationSeconds = Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]);
    const b = /bitrate:\s*(\d+)\s*kb\/s/.exec(line);
    if (b && /^\s*Duration:/.test(line)) bitrate = Number(b[1]) * 1000;
    if (/Stream #0:\d+.*: Audio:/.test(line)) hasAudio = true;
    if (/rotation of -?(90|270)(\.0+)? degrees/.test(line) && info) rotated = true;
    const v = /Stream #0:\d+.*: Video: .*?, (\d{2,5})x(\d{2,5})/.exec(line);
    if (v && !info) {
      const fps = /(\d+(?:\.\d+)?) fps/.exec(line) ?? /(\d+(?:\.\d+)?) tbr/.exec(line);
      info = { width: Number(v[1]), height: Number(v[2]), fps: fps ? Number(fps[1]) : 0, bitrate: 0, hasAudio: false, durationSeconds: 0 };
    }
  }
  if (!info) return null;
  if (rotated) [info.width, info.height] = [info.height, info.width];
  return { ...info, hasAudio, durationSeconds, bitrate };
}

/** Probes a source (a file, an HLS playlist, a URL); null when FFmpeg cannot open it or it has no video. */
export async function probe(input: string, env: EncodeEnv): Promise<SourceInfo | null> {
  const lines: string[] = [];
  const cmd = ffmpeg(input).outputOptions(['-t', '0.1', '-map', '0', '-c', 'copy', '-f', 'null']).output('-');
  const exit = await runOnce(cmd, { group: env.group, log: env.log, what: 'transcode probe', timeoutMs: PROBE_TIMEOUT_MS, onStderr: (l) => lines.push(l) });
  if (exit.error && !lines.some((l) => /Stream #0/.test(l))) return null;
  return parseProbe(lines);
}

/** FFmpeg's output options for one rendition into `dir` (HLS fMP4: init.mp4, seg-%05d.m4s, index.m3u8). */
export function renditionOptions(r: Rendition, source: SourceInfo, dir: string): string[] {
  const hls = ['-f', 'hls', '-hls_time', String(GOP_SECONDS), '-hls_playlist_type', 'vod', '-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4', '-hls_flags', 'independent_segments', '-hls_segment_filename', path.join(dir, 'seg-%05d.m4s')];
  const audio = ['-c:a', 'aac', '-b:a', String(r.audioBitrate), '-ac', '2', '-ar', '48000'];
  const progress = ['-progress', 'pipe:2', '-stats_period', '0.5', '-nostats'];
  if (r.name === 'audio') return ['-map', '0:a:0', '-vn', ...audio, ...hls, ...progress];
  const gop = String(Math.round(GOP_SECONDS * r.frameRate));
  const filters = [`scale=${r.width}:${r.height}`, ...(Math.abs(r.frameRate - (source.fps || r.frameRate)) > 0.01 ? [`fps=${r.frameRate}`] : []), 'format=yuv420p'];
  const level = h264Level(r.width, r.height, r.frameRate, r.videoBitrate);
  return [
    '-map', '0:v:0', ...(source.hasAudio ? ['-map', '0:a:0'] : []),
    '-vf', filters.join(','),
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', h264Profile(Math.min(r.width, r.height)), '-level:v', (level / 10).toFixed(1),
    '-b:v', String(r.videoBitrate), '-maxrate', String(r.videoBitrate), '-bufsize', String(2 * r.videoBitrate),
    // keyframes at the same instants in every rendition: a fixed GOP of GOP_SECONDS, no scene-cut keyframes
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-force_key_frames', `expr:gte(t,n_forced*${GOP_SECONDS})`,
    ...(source.hasAudio ? audio : []),
    ...hls, ...progress,
  ];
}

/** A running encode: `done` settles when FFmpeg exits (rejecting on failure, a stall or a stop), `stop()` ends it. */
export type Encode = { child: FfmpegProcess; done: Promise<void>; stop(): Promise<void> };

/**
 * Encodes one rendition of `input` into `dir`, reporting 0..1 of `durationSeconds` done. A watchdog kills it when
 * no progress line arrives for stallSeconds; `signal` (the job's) stops it.
 */
export async function encodeRendition(input: string, r: Rendition, source: SourceInfo, dir: string, env: EncodeEnv, onProgress: (p: number) => void, signal: AbortSignal): Promise<void> {
  await mkdir(dir, { recursive: true });
  const cmd: FfmpegCommand = ffmpeg(input).inputOptions(['-nostdin']).outputOptions(renditionOptions(r, source, dir)).output(path.join(dir, 'index.m3u8'));
  let last = Date.now();
  let reniced = false;
  let why: string | undefined;
  const child = new FfmpegProcess(cmd, {
    group: env.group,
    log: env.log,
    what: `transcode ${r.name}`,
    onStart: (pid) => renice(pid, env.nice),
    onStderr: (line) => {
      const m = /^out_time_(?:us|ms)=(\d+)/.exec(line);
      if (!m && !/^progress=/.test(line)) return;
      last = Date.now();
      // the encoder's threads exist by the first progress report: each gets the niceness too
      if (!reniced) {
        reniced = true;
        renice(child.pid, env.nice);
      }
      if (m && source.durationSeconds > 0) onProgress(Math.min(1, Number(m[1]) / 1e6 / source.durationSeconds));
    },
  });
  const stop = (reason: string) => {
    why ??= reason;
    return child.stop({ graceMs: 0, killMs: KILL_MS });
  };
  const watchdog = setInterval(() => {
    if (Date.now() - last > env.stallSeconds * 1000) void stop(`no progress for ${env.stallSeconds} s`);
  }, Math.min(1000, env.stallSeconds * 250));
  const onAbort = () => void stop('the job was stopped');
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  try {
    const exit = await child.exited;
    if (why) throw new Error(`${r.name}: ${why}`);
    if (exit.error) throw new Error(`${r.name}: FFmpeg failed (${exit.signal ?? exit.code}): ${exit.stderr.split('\n').filter((l) => !/^\w+=/.test(l)).slice(-3).join(' | ')}`);
    if (!(await stat(path.join(dir, 'index.m3u8')).catch(() => null))) throw new Error(`${r.name}: FFmpeg wrote no playlist`);
  } finally {
    clearInterval(watchdog);
    signal.removeEventListener('abort', onAbort);
  }
}

/** One FFmpeg producing an image, niced, ended when it takes longer than `timeoutMs` or the job is stopped. */
async function image(cmd: FfmpegCommand, what: string, timeoutMs: number, env: EncodeEnv, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) throw new Error('the job was stopped');
  const child = new FfmpegProcess(cmd, { group: env.group, log: env.log, what, onStart: (pid) => renice(pid, env.nice) });
  const end = () => void child.stop({ graceMs: 0, killMs: KILL_MS });
  const timer = setTimeout(end, timeoutMs);
  signal.addEventListener('abort', end, { once: true });
  try {
    const exit = await child.exited;
    if (signal.aborted) throw new Error('the job was stopped');
    return !exit.error;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', end);
  }
}

/** A frame at `seconds` as a JPEG at most `maxWidth` wide (never upscaled). */
export function grabFrame(input: string, seconds: number, out: string, maxWidth: number, env: EncodeEnv, signal: AbortSignal) {
  const cmd = ffmpeg(input)
    .inputOptions(['-nostdin', '-ss', seconds.toFixed(3)])
    .outputOptions(['-frames:v', '1', '-an', '-vf', `scale='min(${maxWidth},iw)':-2`, '-q:v', '3', '-update', '1'])
    .output(out);
  return image(cmd, 'transcode frame grab', FRAME_TIMEOUT_MS, env, signal);
}

/** A JPEG scaled to `width` wide (never upscaled). */
export function scaleImage(inputJpeg: string, out: string, width: number, env: EncodeEnv, signal: AbortSignal) {
  const cmd = ffmpeg(inputJpeg).outputOptions(['-frames:v', '1', '-vf', `scale='min(${width},iw)':-2`, '-q:v', '3', '-update', '1']).output(out);
  return image(cmd, 'transcode thumbnail', FRAME_TIMEOUT_MS, env, signal);
}

/** The storyboard sprite: a tile every plan.interval seconds, letterboxed into plan's tile size, plan.columns a row. */
export function storyboard(input: string, durationSeconds: number, out: string, env: EncodeEnv, signal: AbortSignal) {
  const p = storyboardPlan(durationSeconds);
  const vf = [
    `fps=1/${p.interval}`,
    `scale=${p.tileWidth}:${p.tileHeight}:force_original_aspect_ratio=decrease`,
    `pad=${p.tileWidth}:${p.tileHeight}:(ow-iw)/2:(oh-ih)/2`,
    `tile=${p.columns}x${p.rows}`,
  ].join(',');
  const cmd = ffmpeg(input).inputOptions(['-nostdin']).outputOptions(['-an', '-sn', '-vf', vf, '-frames:v', '1', '-q:v', '4', '-update', '1']).output(out);
  return image(cmd, 'transcode storyboard', STORYBOARD_TIMEOUT_MS, env, signal);
}
