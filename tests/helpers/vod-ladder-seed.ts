// A small real adaptive-bitrate ladder for the player's tests, laid out under vod/<id>/ as the transcoder lays it out
// (design of issue 17): master.m3u8 with CODECS/RESOLUTION/BANDWIDTH, 360p/ and 240p/ fMP4 HLS (init.mp4 +
// seg-NNNNN.m4s, keyframes aligned every 2 s), a storyboard sprite (storyboard.jpg) with its WebVTT cues, a poster.
// Made by FFmpeg from lavfi once per run (about a second), then reused; seed it with seedVod(api, …, { files }).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { VodFiles } from './vod-seed.ts';
import type { Rendition } from '../../shared/vod-ladder.ts';

/** The ladder's length, and the storyboard's grid: one 160×90 tile per second, 3 across. */
export const LADDER_SECONDS = 10;
export const TILE = { w: 160, h: 90, columns: 3 };

/** WebVTT cues of a storyboard: one tile per second of `seconds`, row by row in a `columns`-wide sprite. */
export function storyboardVtt(seconds: number, tile = TILE): string {
  const ts = (s: number) => `00:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.000`;
  const cues = Array.from({ length: seconds }, (_, i) => {
    const x = (i % tile.columns) * tile.w;
    const y = Math.floor(i / tile.columns) * tile.h;
    return `${ts(i)} --> ${ts(i + 1)}\nstoryboard.jpg#xywh=${x},${y},${tile.w},${tile.h}\n`;
  });
  return `WEBVTT\n\n${cues.join('\n')}`;
}

async function filesUnder(dir: string, rel = ''): Promise<VodFiles> {
  const files: VodFiles = {};
  for (const name of await readdir(path.join(dir, rel))) {
    const relName = rel ? `${rel}/${name}` : name;
    if ((await stat(path.join(dir, relName))).isDirectory()) Object.assign(files, await filesUnder(dir, relName));
    else files[relName] = new Uint8Array(await readFile(path.join(dir, relName)));
  }
  return files;
}

/** The vod row's side of the seeded ladder (what the transcoder would have written): both renditions ready, a storyboard. */
export const LADDER_ROW: { renditions: Rendition[]; storyboard: boolean } = {
  renditions: [
    { name: '240p', width: 426, height: 240, bandwidth: 400_000, codecs: 'avc1.42c015,mp4a.40.2', status: 'ready', progress: 1, frameRate: 25, videoBitrate: 300_000, audioBitrate: 64_000 },
    { name: '360p', width: 640, height: 360, bandwidth: 700_000, codecs: 'avc1.42c01e,mp4a.40.2', status: 'ready', progress: 1, frameRate: 25, videoBitrate: 600_000, audioBitrate: 64_000 },
  ],
  storyboard: true,
};

let made: Promise<VodFiles> | undefined;
/** The ladder's files by their key under the VoD's prefix (made once per run). */
export function ladderFiles(): Promise<VodFiles> {
  made ??= (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'glint-ladder-'));
    const ffmpeg = (args: string[]) => promisify(execFile)('ffmpeg', ['-hide_banner', '-v', 'error', '-y', ...args]);
    try {
      const source = ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(LADDER_SECONDS)];
      await ffmpeg([
        ...source,
        '-filter_complex', '[0:v]split=2[a][b];[a]scale=640:360[v360];[b]scale=426:240[v240]',
        '-map', '[v360]', '-map', '[v240]', '-map', '1:a', '-map', '1:a',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v:0', '600k', '-b:v:1', '300k',
        '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-c:a', 'aac', '-b:a', '64k',
        '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4',
        '-hls_segment_filename', path.join(dir, '%v/seg-%05d.m4s'), '-master_pl_name', 'master.m3u8',
        '-var_stream_map', 'v:0,a:0,name:360p v:1,a:1,name:240p', path.join(dir, '%v/index.m3u8'),
      ]);
      await ffmpeg([...source.slice(0, 4), '-t', String(LADDER_SECONDS), '-vf', `fps=1,scale=${TILE.w}:${TILE.h},tile=${TILE.columns}x${Math.ceil(LADDER_SECONDS / TILE.columns)}`, '-frames:v', '1', path.join(dir, 'storyboard.jpg')]);
      await ffmpeg([...source.slice(0, 4), '-ss', '2', '-frames:v', '1', path.join(dir, 'poster.jpg')]);
      const raw = await filesUnder(dir);
      const files: VodFiles = {};
      // FFmpeg names a variant's init segment init_<n>.mp4; the transcoder's layout calls it init.mp4
      for (const [name, body] of Object.entries(raw)) {
        if (/\/init_\d+\.mp4$/.test(name)) files[name.replace(/init_\d+\.mp4$/, 'init.mp4')] = body;
        else if (name.endsWith('/index.m3u8')) files[name] = new TextEncoder().encode(new TextDecoder().decode(body).replace(/init_\d+\.mp4/, 'init.mp4'));
        else files[name] = body;
      }
      files['storyboard.vtt'] = new TextEncoder().encode(storyboardVtt(LADDER_SECONDS));
      return files;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return made;
}
