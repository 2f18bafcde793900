// VoDs put straight into a test API's database and object store (no broadcast, no recorder): a channel, its vod row,
// and the files under vod/<id>/ — placeholder bytes, or a real few-second HLS recording made by FFmpeg once per run.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { channel, vod } from '../../shared/db/index.ts';
import { CONTENT_TYPES, vodPrefix } from '../../shared/media.ts';
import type { Client, TestApi } from './api.ts';

export type VodFiles = Record<string, Uint8Array>;

/** Placeholder files: a playlist (ended or not), a segment of `segmentBytes` patterned bytes, a poster. */
export function placeholderFiles(opts: { ended?: boolean; segmentBytes?: number } = {}): VodFiles {
  const playlist = `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\nseg-00000.ts\n${opts.ended ? '#EXT-X-ENDLIST\n' : ''}`;
  return {
    'index.m3u8': new TextEncoder().encode(playlist),
    'seg-00000.ts': Uint8Array.from({ length: opts.segmentBytes ?? 188 * 10 }, (_, i) => i % 251),
    'poster.jpg': new Uint8Array([0xff, 0xd8, 0xff, 0xe0]),
  };
}

let made: Promise<VodFiles> | undefined;
/** A 6 s H.264/AAC recording in 2 s segments named as the recorder names them (made once, then reused). */
export function ffmpegVodFiles(): Promise<VodFiles> {
  made ??= (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'glint-hls-'));
    try {
      await promisify(execFile)('ffmpeg', [
        '-hide_banner', '-v', 'error',
        '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
        '-t', '6', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '50', '-c:a', 'aac',
        '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_segment_filename', path.join(dir, 'seg-%05d.ts'), path.join(dir, 'index.m3u8'),
      ]);
      const files: VodFiles = {};
      for (const name of await readdir(dir)) files[name] = new Uint8Array(await readFile(path.join(dir, name)));
      return files;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return made;
}

/** A VoD's catalog details a test sets straight in its row (everything the vod table takes but its keys). */
export type VodDetails = Partial<Omit<typeof vod.$inferInsert, 'id' | 'channelId' | 'storagePrefix'>>;

/** A VoD of `owner`'s channel `slug` (created when it does not exist yet) with `files` in the store; its id. */
export async function seedVod(api: TestApi, owner: Client, slug: string, opts: { status?: 'ready' | 'recording'; subscribersOnly?: boolean; files: VodFiles; details?: VodDetails }): Promise<string> {
  const { db } = api.deps.database;
  let [ch] = await db.select().from(channel).where(eq(channel.slug, slug));
  if (!ch) {
    const created = await owner.post('/api/channels', { slug, title: slug });
    if (created.status !== 201) throw new Error(`creating channel ${slug}: ${created.status} ${created.text}`);
    [ch] = await db.select().from(channel).where(eq(channel.slug, slug));
  }
  const id = crypto.randomUUID();
  await db.insert(vod).values({ id, channelId: ch!.id, title: slug, status: opts.status ?? 'ready', storagePrefix: vodPrefix(id), visibility: opts.subscribersOnly ? 'subscribers' : 'public', ...opts.details });
  for (const [name, body] of Object.entries(opts.files)) await api.deps.store.put(`${vodPrefix(id)}${name}`, body, CONTENT_TYPES[name.split('.').pop()!] ?? 'application/octet-stream');
  return id;
}
