// What every recording test asks of a VoD: a playlist players accept (RFC 8216's required tags, target duration at
// least every segment's rounded duration, every segment reachable) and media that decodes whole with zero errors.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { parsePlaylist } from '../../recorder/hls.ts';

const run = promisify(execFile);

/** The problems with an HLS media playlist (empty when it is valid); `ended` demands #EXT-X-ENDLIST. */
export function playlistProblems(text: string, opts: { ended?: boolean } = {}): string[] {
  const problems: string[] = [];
  if (!text.startsWith('#EXTM3U')) problems.push('does not start with #EXTM3U');
  const target = /^#EXT-X-TARGETDURATION:(\d+)\s*$/m.exec(text);
  if (!target) problems.push('no #EXT-X-TARGETDURATION');
  const { segments, ended } = parsePlaylist(text);
  if (!segments.length) problems.push('no segment');
  for (const s of segments) {
    if (!(s.duration > 0)) problems.push(`${s.uri}: no EXTINF duration`);
    if (target && Math.round(s.duration) > Number(target[1])) problems.push(`${s.uri}: ${s.duration} s exceeds the target duration ${target[1]} s`);
  }
  if (opts.ended === true && !ended) problems.push('no #EXT-X-ENDLIST');
  if (opts.ended === false && ended) problems.push('#EXT-X-ENDLIST while still live');
  return problems;
}

/** Fetches a playlist URL and checks it and that every segment it names answers 200. */
export async function checkPlaylistUrl(url: string, opts: { ended?: boolean } = {}): Promise<{ text: string; problems: string[] }> {
  const res = await fetch(url);
  if (res.status !== 200) return { text: '', problems: [`playlist answered ${res.status}`] };
  const text = await res.text();
  const problems = playlistProblems(text, opts);
  for (const s of parsePlaylist(text).segments) {
    const seg = await fetch(new URL(s.uri, url));
    await seg.arrayBuffer();
    if (seg.status !== 200) problems.push(`${s.uri} answered ${seg.status}`);
  }
  return { text, problems };
}

export type Decoded = { errors: string[]; durationSeconds: number; streams: string[] };

/** The closest two frames of a WebRTC publisher may be: no camera sends 250 frames a second, while a picture cut in
 * two by its demuxer comes out as two frames one 90 kHz tick apart. */
export const MIN_FRAME_GAP_MS = 4;

/**
 * Decodes a recording whole (every frame of every stream, as a player would) and returns what FFmpeg complained of —
 * decode errors, non-monotonic timestamps, corrupt packets — with the duration and the streams ffprobe sees.
 *
 * By default the frames must also be at least a frame apart at the stream's nominal rate (FFmpeg's null muxer stamps
 * them in 1/rate ticks and complains of two in one tick), as for a constant-rate publisher such as OBS over RTMP.
 * `variableFrameRate` is for WebRTC publishers, whose frames carry their capture times: a loaded browser captures
 * irregularly (two frames 20 ms apart at 30 fps), and a VoD keeping those times is right. Their frames are decoded in
 * the source's own clock instead, and any two closer than MIN_FRAME_GAP_MS are reported.
 */
export async function decodeWhole(url: string, opts: { variableFrameRate?: boolean } = {}): Promise<Decoded> {
  const clock = opts.variableFrameRate ? ['-enc_time_base', '-1'] : [];
  const decoded = await run('ffmpeg', ['-hide_banner', '-nostats', '-v', 'warning', '-i', url, ...clock, '-f', 'null', '-'], { encoding: 'utf8', maxBuffer: 16 << 20 }).then(
    (r) => r.stderr,
    (err: { stderr?: string; message: string }) => `${err.stderr ?? ''}\n${err.message}`,
  );
  const errors = decoded.split('\n').map((l) => l.trim()).filter((l) => l && !/^Command failed/.test(l));
  if (opts.variableFrameRate) errors.push(...(await closeFrames(url)));
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name:format=duration', '-of', 'json', url], { encoding: 'utf8' });
  const probe = JSON.parse(stdout) as { streams: { codec_type: string; codec_name: string }[]; format: { duration?: string } };
  return { errors, durationSeconds: Number(probe.format.duration ?? 0), streams: probe.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort() };
}

/** Consecutive video frames (in decoding order) closer than MIN_FRAME_GAP_MS, each as a line. */
async function closeFrames(url: string): Promise<string[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=dts_time', '-of', 'csv=p=0', url], { encoding: 'utf8', maxBuffer: 16 << 20 });
  const times = stdout.split('\n').map(Number.parseFloat).filter((t) => Number.isFinite(t));
  const close: string[] = [];
  for (let i = 1; i < times.length; i++) {
    const gapMs = (times[i]! - times[i - 1]!) * 1000;
    if (gapMs < MIN_FRAME_GAP_MS) close.push(`video frames ${gapMs.toFixed(3)} ms apart at ${times[i]!.toFixed(3)} s`);
  }
  return close;
}

/**
 * A VoD copied into `dir` (the playlist and every segment, redirects followed), one local playlist per part between
 * #EXT-X-DISCONTINUITY tags. FFmpeg's HLS reader feeds consecutive segments to one MPEG-TS demuxer, so at a
 * discontinuity (a new FFmpeg: its continuity counters restart) it flags the frame in progress corrupt; each part
 * decodes on its own, as a player that resets its demuxer at the discontinuity (hls.js) reads it.
 */
export async function downloadParts(url: string, dir: string): Promise<string[]> {
  const text = await (await fetch(url)).text();
  for (const s of parsePlaylist(text).segments) await writeFile(path.join(dir, s.uri), Buffer.from(await (await fetch(new URL(s.uri, url))).arrayBuffer()));
  const header = text.slice(0, text.search(/^#EXTINF/m));
  const files: string[] = [];
  for (const [i, part] of text.slice(header.length).split(/^#EXT-X-DISCONTINUITY\s*$/m).entries()) {
    if (!parsePlaylist(part).segments.length) continue;
    const file = path.join(dir, `part-${i}.m3u8`);
    await writeFile(file, `${header}${part.replace(/^#EXT-X-ENDLIST\s*$/m, '').trimEnd()}\n#EXT-X-ENDLIST\n`);
    files.push(file);
  }
  return files;
}

export type Played = { currentTime: number; errors: string[]; width: number; hlsJs: boolean; ui: string };

/**
 * Plays the VoD page's video (muted) in `page` as a viewer would: waits for it to load (`readyState` at least
 * `haveState`), seeks to `from` when given, plays until `until` seconds or 20 s pass; returns where it got, the media
 * errors the element raised, its width, whether hls.js drove it, and any error the page shows.
 */
export function playVod(page: Page, opts: { from?: number; until: number; haveState: 1 | 2 }): Promise<Played> {
  return page.evaluate(async ({ from, until, haveState }) => {
    const video = document.querySelector('[data-testid="vod-video"]') as HTMLVideoElement;
    video.muted = true;
    const errors: string[] = [];
    video.addEventListener('error', () => errors.push(String(video.error?.message ?? video.error?.code)));
    const start = performance.now();
    while (video.readyState < haveState && performance.now() - start < 10_000) await new Promise((r) => setTimeout(r, 100));
    if (from !== undefined) video.currentTime = Math.max(0, from);
    await video.play().catch((e) => errors.push(String(e)));
    while (video.currentTime < until && performance.now() - start < 20_000) await new Promise((r) => setTimeout(r, 200));
    return { currentTime: video.currentTime, errors, width: video.videoWidth, hlsJs: !!(window as any).Hls, ui: document.querySelector('[data-testid="vod-error"]')?.textContent ?? '' };
  }, opts);
}
