// Shared by the VoD benchmarks: a generated 1080p30 source with audio — an MP4 as a creator uploads it, or a past
// broadcast's HLS recording — and a video's upload through the API's own tus endpoint (tus-js-client, as a browser).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { upload, vod } from '../shared/db/index.ts';
import type { Client, TestApi } from '../tests/helpers/api.ts';
import { send } from '../tests/helpers/tus.ts';

export type SourceKind = 'upload' | 'recording';

/** Generates `seconds` of 1080p30 test picture with a tone into `dir`; resolves to the input FFmpeg reads. */
export async function makeSource(dir: string, seconds: number, kind: SourceKind): Promise<string> {
  const encode = ['-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '6M', '-pix_fmt', 'yuv420p', '-g', '60', '-c:a', 'aac'];
  const out = kind === 'upload'
    ? ['-movflags', '+faststart', path.join(dir, 'source.mp4')]
    : ['-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_segment_filename', path.join(dir, 'seg-%05d.ts'), path.join(dir, 'index.m3u8')];
  await promisify(execFile)('ffmpeg', ['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', ...encode, ...out]);
  return path.join(dir, kind === 'upload' ? 'source.mp4' : 'index.m3u8');
}

export type Uploaded = {
  vodId: string;
  /** performance.now() when the last PATCH's 204 arrived: the upload's end as the uploader sees it */
  endedAt: number;
  /** ms from the server holding the last byte (the probe starts) to its acceptance (probe passed, VoD + job made) */
  probeMs: number;
  /** ms from the acceptance to the 204 at the client (the VoD, its job in one transaction, the answer) */
  answerMs: number;
};

/** Uploads `file` to `channel` as `owner` in the API's configured chunk size; throws unless it is accepted. */
export async function uploadVideo(api: TestApi, owner: Client, file: string, channel: string): Promise<Uploaded> {
  const sent = await send(api.base, owner, file, { channel, chunkSize: api.config.uploads.chunkBytes });
  const endedAt = performance.now();
  const ended = Date.now();
  if (sent.status !== 204 || !sent.vodId) throw new Error(`upload not accepted: ${sent.status} ${sent.body ?? ''}`);
  const db = api.deps.database.db;
  // the upload row's finishedAt is stamped as the probe starts; the VoD's startedAt once it passed (same clock)
  const [up] = await db.select({ finishedAt: upload.finishedAt }).from(upload).where(eq(upload.vodId, sent.vodId));
  const [row] = await db.select({ startedAt: vod.startedAt }).from(vod).where(eq(vod.id, sent.vodId));
  const accepted = row!.startedAt.getTime();
  return { vodId: sent.vodId, endedAt, probeMs: accepted - up!.finishedAt!.getTime(), answerMs: ended - accepted };
}
