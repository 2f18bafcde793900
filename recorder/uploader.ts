// A recording's uploads: FFmpeg's work directory copied to the object store, each segment before the playlist that
// names it (a reader never sees a playlist pointing at a missing segment), retried with backoff while the store is
// away; and the segments a killed FFmpeg finished but never listed, put back into the playlist.
import { readFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ChildGroup } from '../shared/children.ts';
import { probeDuration } from '../shared/ffmpeg.ts';
import type { Logger } from '../shared/logger.ts';
import { CONTENT_TYPES } from '../shared/media.ts';
import type { ObjectStore } from '../shared/storage.ts';
import { durationMs, parsePlaylist, playable } from './hls.ts';

/** Upload retries back off from the first to the last delay (doubling) while the object store is away. */
const UPLOAD_RETRY_FIRST_MS = 500;
const UPLOAD_RETRY_MAX_MS = 5000;
/** Probing one segment's duration reads 2 s of media: far longer than this is a hung FFmpeg. */
const PROBE_TIMEOUT_MS = 10_000;

/** Every duration-probe FFmpeg alive in this process (none may outlive it). */
const children = new ChildGroup();

export class Uploader {
  private syncing: Promise<void> = Promise.resolve();
  private readonly uploaded = new Map<string, number>(); // segment → bytes
  /** the playlist last stored (what readers see) */
  private stored = '';
  /** uploads failed in a row (the object store is away): the uploader waits until `retryAt` */
  private failures = 0;
  retryAt = 0;
  /** a segment was stored (FFmpeg is producing) */
  onSegment: () => void = () => undefined;
  /** the first playlist was stored mid-recording (there is a segment to make the preview from) */
  onFirst: () => void = () => undefined;

  constructor(
    private readonly workDir: string,
    /** where the VoD is stored (vodPrefix) */
    private readonly prefix: string,
    private readonly store: ObjectStore,
    private readonly log: Logger,
  ) {}

  /** The playlist as last stored. */
  get lastPlaylist(): string {
    return this.stored;
  }

  get sizeBytes(): number {
    return [...this.uploaded.values()].reduce((a, b) => a + b, 0);
  }

  /** Takes over what a previous run stored: its segments count as uploaded. Throws when the store cannot be read. */
  async adopt(): Promise<void> {
    const obj = await this.store.get(`${this.prefix}index.m3u8`);
    const stored = obj ? await new Response(obj.body).text() : '';
    for (const seg of parsePlaylist(stored).segments) this.uploaded.set(seg.uri, (await this.store.size(this.prefix + seg.uri)) ?? 0);
    this.stored = stored;
  }

  /** The duration of what the work directory's playlist lists (what FFmpeg appends to). */
  recordedSeconds(): number {
    let text = '';
    try {
      text = readFileSync(path.join(this.workDir, 'index.m3u8'), 'utf8');
    } catch {
      // none yet
    }
    if (parsePlaylist(text).segments.length < parsePlaylist(this.stored).segments.length) text = this.stored;
    return durationMs(parsePlaylist(text)) / 1000;
  }

  /**
   * Uploads new segments, then the playlist naming them. Runs one at a time; resolves false when the object store
   * failed, and the uploader then backs off (UPLOAD_RETRY_FIRST_MS doubling to UPLOAD_RETRY_MAX_MS) before the next try.
   */
  sync(final = false): Promise<boolean> {
    const run = this.syncing.then(async () => {
      try {
        await this.syncOnce(final);
        if (this.failures) this.log.info({ failures: this.failures }, 'recording uploads stored again');
        this.failures = 0;
        this.retryAt = 0;
        return true;
      } catch (err) {
        const delay = Math.min(UPLOAD_RETRY_FIRST_MS * 2 ** this.failures++, UPLOAD_RETRY_MAX_MS);
        this.retryAt = Date.now() + delay;
        this.log.warn({ err, failures: this.failures, retryMs: delay }, 'recording upload failed; will retry');
        return false;
      }
    });
    this.syncing = run.then(() => undefined);
    return run;
  }

  private async syncOnce(final: boolean) {
    // nothing written yet, or an adopted recording whose work directory is gone (what it stored is the playlist)
    let text = await readFile(path.join(this.workDir, 'index.m3u8'), 'utf8').catch(() => this.stored);
    if (!text) return;
    // what readers may see: no empty segment an FFmpeg that got no media listed, ENDLIST only at the very end
    text = playable(text, final);
    // a playlist caught mid-rewrite (or truncated by a dying FFmpeg) must never replace a longer one
    if (parsePlaylist(text).segments.length < parsePlaylist(this.stored).segments.length) {
      this.log.debug({ bytes: text.length }, 'ignoring a shorter playlist read');
      text = playable(this.stored, final);
    }
    if (text === this.stored) return;
    const playlist = parsePlaylist(text);
    if (!playlist.segments.length) return; // nothing to play yet: the playlist stays unpublished
    for (const seg of playlist.segments) {
      if (this.uploaded.has(seg.uri)) continue;
      const body = await readFile(path.join(this.workDir, seg.uri));
      await this.store.put(this.prefix + seg.uri, body, CONTENT_TYPES.ts!);
      this.uploaded.set(seg.uri, body.byteLength);
      this.onSegment();
    }
    await this.store.put(`${this.prefix}index.m3u8`, new TextEncoder().encode(text), CONTENT_TYPES.m3u8!);
    const first = !this.stored && playlist.segments.length > 0;
    this.stored = text;
    if (first && !final) this.onFirst();
  }

  /** Stores everything left, retrying until the store takes it: nothing is lost to an object store that is away. */
  async syncFinal(): Promise<void> {
    while (!(await this.sync(true))) await new Promise((r) => setTimeout(r, Math.max(0, this.retryAt - Date.now())));
  }

  /** Before an FFmpeg continues an adopted recording: the playlist it appends to holds everything stored so far. */
  async continuePlaylist(): Promise<void> {
    await this.recoverSegments();
    const file = path.join(this.workDir, 'index.m3u8');
    const local = await readFile(file, 'utf8').catch(() => '');
    if (parsePlaylist(local).segments.length < parsePlaylist(this.stored).segments.length) await writeFile(file, this.stored);
  }

  /**
   * Segments FFmpeg finished but never listed (it was killed, or its last playlist write failed): appended to the
   * playlist on disk with their probed durations, so everything written stays playable.
   */
  async recoverSegments(): Promise<void> {
    const file = path.join(this.workDir, 'index.m3u8');
    let text = await readFile(file, 'utf8').catch(() => '');
    if (parsePlaylist(text).segments.length < parsePlaylist(this.stored).segments.length) text = this.stored;
    if (!text) return;
    const listed = new Set(parsePlaylist(text).segments.map((s) => s.uri));
    const last = Math.max(-1, ...[...listed].map((u) => Number(/seg-(\d+)\.ts$/.exec(u)?.[1] ?? -1)));
    const onDisk = (await readdir(this.workDir).catch(() => [])).filter((f) => /^seg-\d{5}\.ts$/.test(f) && !listed.has(f) && Number(f.slice(4, 9)) > last).sort();
    if (!onDisk.length) return;
    let extra = '';
    for (const seg of onDisk) {
      const seconds = await probeDuration(path.join(this.workDir, seg), { group: children, log: this.log, timeoutMs: PROBE_TIMEOUT_MS });
      if (seconds > 0) extra += `#EXTINF:${seconds.toFixed(6)},\n${seg}\n`;
    }
    if (extra) await writeFile(file, `${text.replace(/#EXT-X-ENDLIST\s*$/, '').replace(/\s*$/, '\n')}${extra}`);
    this.log.info({ segments: onDisk }, 'recovered segments missing from the playlist');
  }
}
