// A recording's images: the live channel's preview (a frame of the newest segment, refreshed every PREVIEW_SECONDS
// while it is live, removed at its end) and the VoD's poster (a frame from the middle of the recording).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { ChildGroup } from '../shared/children.ts';
import { runOnce } from '../shared/ffmpeg.ts';
import type { Logger } from '../shared/logger.ts';
import { CONTENT_TYPES, posterKey, previewKey } from '../shared/media.ts';
import type { ObjectStore } from '../shared/storage.ts';

/** How often a live channel's preview image (shown in lists) is refreshed from the newest segment. */
export const PREVIEW_SECONDS = 15;
/** A frame grab reads one 2 s segment: far longer than this is a hung FFmpeg. */
const FRAME_TIMEOUT_MS = 10_000;

/** Every frame-grab FFmpeg alive in this process (none may outlive it). */
const children = new ChildGroup();

/** Writes the first frame of a segment as a 640 px wide JPEG; false when there is none. */
export async function frameOf(segment: string, jpeg: string, log: Logger): Promise<boolean> {
  const cmd = ffmpeg(segment).outputOptions(['-frames:v', '1', '-vf', 'scale=640:-2', '-q:v', '4']).output(jpeg);
  const exit = await runOnce(cmd, { group: children, log, what: 'frame grab', timeoutMs: FRAME_TIMEOUT_MS });
  return !exit.error && !!(await stat(jpeg).catch(() => null));
}

export class Thumbnails {
  /** the segment the preview was last made from */
  private previewed = '';

  constructor(
    private readonly workDir: string,
    private readonly store: ObjectStore,
    private readonly sessionId: string,
    private readonly log: Logger,
  ) {}

  /** The live channel's preview from `segment` (the newest uploaded), unless it was made from that one already. */
  async preview(segment: string | undefined): Promise<void> {
    if (!segment || segment === this.previewed) return;
    this.previewed = segment;
    const file = path.join(this.workDir, 'preview.jpg');
    if (await frameOf(path.join(this.workDir, segment), file, this.log)) {
      await this.store.put(previewKey(this.sessionId), await readFile(file), CONTENT_TYPES.jpg!).catch(() => undefined);
    }
  }

  /** The channel is offline: its preview goes. */
  async removePreview(): Promise<void> {
    await this.store.delete(previewKey(this.sessionId)).catch(() => undefined);
  }

  /** A JPEG from `segment` as the poster of the VoD stored under `prefix`; its key, or null when it has no frame. */
  async poster(segment: string, prefix: string): Promise<string | null> {
    const file = path.join(this.workDir, 'poster.jpg');
    if (!(await frameOf(path.join(this.workDir, segment), file, this.log))) return null;
    const key = posterKey(prefix);
    await this.store.put(key, await readFile(file), CONTENT_TYPES.jpg!);
    return key;
  }
}
