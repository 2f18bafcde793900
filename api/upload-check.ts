// Whether an uploaded file is a video Glint can transcode, decided before any job is queued: ffprobe reads its
// container and streams, then FFmpeg decodes its first and its last seconds of video — a file cut short (the upload
// of a partly copied file, a recording that crashed) still has a header that ffprobe reads, but its end does not
// decode. Each refusal names its reason in words the uploader can act on.
import { runMediaTool } from '../shared/host/probe.ts';

/** ffprobe's and each decode's deadline: a valid file answers in well under a second (S3: one presigned GET or a few). */
const PROBE_TIMEOUT_MS = 30_000;
/** Seconds of the end decoded to find a truncated file. */
const TAIL_SECONDS = 3;

export type Refusal = { kind: 'empty' | 'not-video' | 'no-video' | 'truncated' | 'too-long' | 'codec' | 'unreadable'; reason: string };
export type Accepted = { durationMs: number; codecs: string[]; width: number; height: number };
export type Verdict = { ok: true; media: Accepted } | { ok: false; refusal: Refusal };

type Stream = { codec_type?: string; codec_name?: string; width?: number; height?: number; disposition?: { attached_pic?: number } };
type Probe = { streams?: Stream[]; format?: { duration?: string; format_name?: string } };

const refuse = (kind: Refusal['kind'], reason: string): Verdict => ({ ok: false, refusal: { kind, reason } });
/** The last line FFmpeg wrote, without its `[demuxer @ 0x…]` prefix: the reason it gives. */
const lastLine = (stderr: string) => (stderr.trim().split('\n').at(-1) ?? '').replace(/^\[[^\]]*\]\s*/, '').slice(0, 300);
const seconds = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${Math.round(s / 60)} min` : `${Math.round(s)} s`);

/** Probes `input` (a path or a URL) of `sizeBytes`; a video at most `maxDurationSeconds` long is accepted. */
export async function checkVideo(input: string, sizeBytes: number, maxDurationSeconds: number): Promise<Verdict> {
  if (sizeBytes === 0) return refuse('empty', 'The file is empty (0 bytes).');
  const probe = await runMediaTool('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '--', input], PROBE_TIMEOUT_MS);
  if (probe.timedOut) return refuse('unreadable', `ffprobe could not read the file within ${PROBE_TIMEOUT_MS / 1000} s.`);
  if (probe.code !== 0) {
    if (/moov atom not found/i.test(probe.stderr)) return refuse('truncated', 'The file is incomplete: its index (the MP4 "moov" box) is missing, as when a file is cut short. Upload the whole file.');
    return refuse('not-video', `This is not a video file FFmpeg can read (${lastLine(probe.stderr) || 'unrecognized data'}).`);
  }
  let info: Probe;
  try {
    info = JSON.parse(probe.stdout) as Probe;
  } catch {
    return refuse('not-video', 'This is not a video file FFmpeg can read (ffprobe gave no description of it).');
  }
  const streams = info.streams ?? [];
  // a cover picture in an audio file is a "video" stream of one frame: not a video
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) {
    const audio = streams.some((s) => s.codec_type === 'audio');
    return refuse('no-video', audio ? 'The file has no video stream (it is audio only).' : 'The file has no video stream.');
  }
  if (!video.codec_name || video.codec_name === 'none' || video.codec_name === 'unknown') return refuse('codec', 'The video is in a codec FFmpeg does not know.');
  const duration = Number(info.format?.duration);
  if (!Number.isFinite(duration) || duration <= 0) return refuse('unreadable', 'The file does not say how long it is, so it cannot be played reliably.');
  if (duration > maxDurationSeconds) return refuse('too-long', `The video is ${seconds(duration)} long; the limit is ${seconds(maxDurationSeconds)}.`);
  // decode the first frames (a codec FFmpeg names but cannot decode) and the last seconds (a truncated file)
  for (const [where, args] of [
    ['start', ['-frames:v', '5']],
    ['end', []],
  ] as const) {
    const seek = where === 'end' && duration > TAIL_SECONDS ? ['-sseof', `-${TAIL_SECONDS}`] : [];
    const run = await runMediaTool('ffmpeg', ['-nostdin', '-v', 'error', ...seek, '-i', input, '-map', '0:v:0', ...args, '-f', 'null', '-'], PROBE_TIMEOUT_MS);
    if (run.timedOut) return refuse('unreadable', `FFmpeg could not decode the video's ${where} within ${PROBE_TIMEOUT_MS / 1000} s.`);
    if (/decoder .*not found|unsupported codec|no decoder/i.test(run.stderr)) return refuse('codec', `The video's codec (${video.codec_name}) cannot be decoded here.`);
    if (/partial file/i.test(run.stderr)) return refuse('truncated', 'The file is incomplete: its last part is missing, as when a file is cut short. Upload the whole file.');
    if (run.code !== 0 || run.stderr.trim()) return refuse(where === 'end' ? 'truncated' : 'unreadable', `The video's ${where} does not decode (${lastLine(run.stderr) || `FFmpeg exited with ${run.code}`}).`);
  }
  const codecs = [...new Set(streams.map((s) => s.codec_name).filter((c): c is string => !!c))];
  return { ok: true, media: { durationMs: Math.round(duration * 1000), codecs, width: video.width ?? 0, height: video.height ?? 0 } };
}
