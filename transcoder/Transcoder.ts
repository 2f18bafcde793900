// The transcoder: the 'vod.transcode' job's handler. It turns a VoD's source (an upload, or a past broadcast's HLS
// recording) into the adaptive ladder (shared/vod-ladder.ts) under vod/<id>/<name>/, the lowest rendition first and
// published at once (the video is watchable before the ladder is done), then the rest, each added to master.m3u8 as
// it finishes; and its images (thumbnails, poster candidates, storyboard). Any process that registers it may run the
// jobs (the Node API on defaults, `npm run worker`); an attempt that fails (FFmpeg died, stalled, the process went)
// is retried by the durable queue and resumes at the first rendition not yet ready.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import type { Jobs } from '../shared/jobs.ts';
import type { EventBus } from '../shared/bus.ts';
import { ChildGroup } from '../shared/children.ts';
import type { Config } from '../shared/config.ts';
import type { UploadStore } from '../shared/host/upload-stores.ts';
import { channel, notification, vod, type Db } from '../shared/db/index.ts';
import type { Logger } from '../shared/logger.ts';
import { CONTENT_TYPES, posterKey } from '../shared/media.ts';
import type { ObjectStore } from '../shared/storage.ts';
import { DEFAULT_POSTER_FRAME, encodeOrder, ladderFor, masterPlaylist, POSTER_FRACTIONS, storyboardPlan, storyboardVtt, VOD_IMAGES, type Rendition, type SourceInfo } from '../shared/vod-ladder.ts';
import { encodeRendition, grabFrame, probe, scaleImage, storyboard, type EncodeEnv } from './encode.ts';

/** What the transcoder needs: the same database, bus, object store and store of uploads as the API. */
export type TranscoderDeps = { config: Config; db: Db; bus: EventBus; store: ObjectStore; uploads: UploadStore; log: Logger };

/** How long a presigned URL of an uploaded file (S3) stays good: the longest transcode of it. */
const INPUT_URL_SECONDS = 24 * 3600;

/** Attempts per VoD, and the first retry's wait (doubling after). */
export const TRANSCODE_ATTEMPTS = 3;
export const TRANSCODE_BACKOFF_MS = 5000;
/** An attempt's deadline: hours of 4K take hours. The stall watchdog, not this, catches a hung FFmpeg. */
const ATTEMPT_TIMEOUT_MS = 24 * 3600_000;
/** Progress is written to the row and published at most this often per rendition. */
const PROGRESS_EVERY_MS = 1000;

/** Every transcoding FFmpeg alive in this process (none may outlive it). */
const children = new ChildGroup();

type VodRow = typeof vod.$inferSelect;

/** The VoD was deleted during its transcode: nothing to retry. */
class VodDeleted extends Error {
  constructor() {
    super('the VoD was deleted');
  }
}

export class Transcoder {
  private closed = false;
  private closing: Promise<void> | undefined;
  /** the attempts running here, each with its abort (close() stops them) */
  private readonly running = new Map<string, { abort: AbortController; done: Promise<unknown> }>();
  private readonly env: EncodeEnv;

  constructor(private readonly deps: TranscoderDeps) {
    this.env = { group: children, log: deps.log, nice: deps.config.transcode.nice, stallSeconds: deps.config.transcode.stallSeconds };
  }

  /** Registers the 'vod.transcode' kind with a runner: that runner then claims and runs these jobs. */
  define(jobs: Jobs) {
    jobs.define('vod.transcode', {
      maxAttempts: TRANSCODE_ATTEMPTS,
      backoffMs: TRANSCODE_BACKOFF_MS,
      timeoutMs: ATTEMPT_TIMEOUT_MS,
      run: async (j, signal) => {
        await this.run(j.payload.vodId, signal).catch((err) => {
          if (!(err instanceof VodDeleted)) throw err;
        });
        return { done: true };
      },
      gaveUp: async (j, error) => {
        await this.failRemaining(j.payload.vodId, error);
      },
    });
  }

  /** pids of the FFmpeg children transcoding in this process now. */
  pids(): number[] {
    return children.pids();
  }

  /** One attempt at a VoD's ladder; resolves when every rendition is ready, rejects when this attempt failed. */
  async run(vodId: string, signal: AbortSignal): Promise<void> {
    if (this.closed) throw new Error('the transcoder is closed');
    const abort = new AbortController();
    const stop = () => abort.abort();
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    const done = this.attempt(vodId, abort.signal);
    this.running.set(vodId, { abort, done: done.catch(() => undefined) });
    try {
      await done;
    } finally {
      signal.removeEventListener('abort', stop);
      this.running.delete(vodId);
    }
  }

  private async attempt(vodId: string, signal: AbortSignal) {
    const { db, log } = this.deps;
    const [row] = await db.select().from(vod).where(eq(vod.id, vodId)).limit(1);
    // deleted meanwhile, or a recording that never became playable: nothing to do
    if (!row || row.status === 'failed' || row.status === 'recording') return;
    const work = await mkdtemp(path.join(os.tmpdir(), `glint-transcode-${vodId.slice(0, 8)}-`));
    try {
      const input = await this.inputOf(row, work);
      const source = await probe(input, this.env);
      if (!source) throw new Error('FFmpeg found no video in the source');
      if (!source.durationSeconds && row.durationMs) source.durationSeconds = row.durationMs / 1000;
      // a retry keeps what the earlier attempts finished; anything they left half-done starts again
      const ladder: Rendition[] = row.renditions.length ? row.renditions.map((r) => (r.status === 'ready' ? r : { ...r, status: 'queued', progress: 0 })) : ladderFor(source);
      await this.save(row, ladder);
      let first = ladder.some((r) => r.status === 'ready' && r.name !== 'audio');
      for (const r of encodeOrder(ladder)) {
        if (r.status === 'ready') continue;
        const i = ladder.findIndex((x) => x.name === r.name);
        ladder[i] = { ...r, status: 'running', progress: 0 };
        await this.save(row, ladder);
        let lastWrite = 0;
        const dir = path.join(work, r.name);
        try {
          await encodeRendition(input, r, source, dir, this.env, (p) => {
            ladder[i] = { ...ladder[i]!, progress: p };
            if (Date.now() - lastWrite < PROGRESS_EVERY_MS) return;
            lastWrite = Date.now();
            void this.save(row, ladder).catch((err) => log.warn({ err, vodId }, 'could not write transcode progress'));
          }, signal);
          await this.publish(dir, `${row.storagePrefix}${r.name}/`);
        } catch (err) {
          ladder[i] = { ...ladder[i]!, status: 'failed' };
          await this.save(row, ladder).catch(() => undefined);
          throw err;
        }
        ladder[i] = { ...ladder[i]!, status: 'ready', progress: 1 };
        await this.publishMaster(row, ladder);
        if (!first && r.name !== 'audio') {
          first = true;
          // watchable now: an upload leaves 'processing'; and its images follow at once (lists show the thumbnail)
          await this.save(row, ladder, row.status === 'processing' ? 'ready' : undefined);
          if (!row.storyboard) await this.images(row, input, source, work, signal);
        } else await this.save(row, ladder);
      }
      if (!first) throw new Error('no video rendition was made');
      if (!row.storyboard) await this.images(row, input, source, work, signal);
      await this.notifyOwner(row);
      log.info({ vodId, renditions: ladder.map((r) => r.name) }, 'transcode finished');
    } finally {
      await rm(work, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /**
   * Where FFmpeg reads the source: an upload's file (or presigned URL); a past broadcast's HLS recording on local
   * disk, or — on S3 — copied into the work directory first (its playlist names its segments relatively, which a
   * presigned playlist URL could not carry to them).
   */
  private async inputOf(row: VodRow, work: string): Promise<string> {
    if (row.source === 'upload') {
      if (!row.uploadId) throw new Error('an uploaded VoD without its upload');
      return this.deps.uploads.input(row.uploadId, INPUT_URL_SECONDS);
    }
    const { store, config } = this.deps;
    if (store.kind === 'local') return path.join(config.mediaDir, `${row.storagePrefix}index.m3u8`);
    const dir = path.join(work, 'source');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    for (const key of await store.list(row.storagePrefix)) {
      const name = key.slice(row.storagePrefix.length);
      if (!/^(index\.m3u8|seg-\d{5}\.ts)$/.test(name)) continue;
      const obj = await store.get(key);
      if (obj) await writeFile(path.join(dir, name), new Uint8Array(await new Response(obj.body).arrayBuffer()));
    }
    return path.join(dir, 'index.m3u8');
  }

  /** A rendition's files to the store: its init segment and segments before the playlist naming them. */
  private async publish(dir: string, prefix: string) {
    const files = (await readdir(dir)).filter((f) => /^(init\.mp4|seg-\d{5}\.m4s)$/.test(f)).sort();
    for (const f of files) await this.deps.store.put(`${prefix}${f}`, await readFile(path.join(dir, f)), CONTENT_TYPES[f.split('.').pop()!]!);
    await this.deps.store.put(`${prefix}index.m3u8`, await readFile(path.join(dir, 'index.m3u8')), CONTENT_TYPES.m3u8!);
  }

  private async publishMaster(row: VodRow, ladder: Rendition[]) {
    const text = masterPlaylist(ladder);
    if (text) await this.deps.store.put(`${row.storagePrefix}master.m3u8`, new TextEncoder().encode(text), CONTENT_TYPES.m3u8!);
  }

  /**
   * Writes the ladder (and a new status) to the row, and tells the bus. The VoD deleted meanwhile (its owner did not
   * wait): what this transcode stored after the deletion is removed, and the attempt ends.
   */
  private async save(row: VodRow, ladder: Rendition[], status?: 'ready') {
    const set: Partial<VodRow> = { renditions: ladder.map((r) => ({ ...r })) };
    if (status) (set as { status: string }).status = status;
    const kept = await this.deps.db.update(vod).set(set).where(eq(vod.id, row.id)).returning({ id: vod.id });
    if (!kept.length) {
      await this.deps.store.deletePrefix(row.storagePrefix);
      throw new VodDeleted();
    }
    if (status) (row as { status: string }).status = status;
    await this.deps.bus.publish('vod.progress', { vodId: row.id, channelId: row.channelId, status: row.status, renditions: set.renditions! });
  }

  /**
   * Poster candidates at 20/40/60/80 %, the two thumbnail sizes (from frame 2), the poster (frame 2, unless the VoD
   * has one: a chosen or uploaded poster, or a recording's own), and the storyboard sprite with its WebVTT.
   */
  private async images(row: VodRow, input: string, source: SourceInfo, work: string, signal: AbortSignal) {
    const dir = path.join(work, 'images');
    await mkdir(dir, { recursive: true });
    const put = async (file: string, name: string) => this.deps.store.put(`${row.storagePrefix}${name}`, await readFile(path.join(dir, file)), CONTENT_TYPES[name.split('.').pop()!]!);
    const frames: number[] = [];
    for (const [k, f] of POSTER_FRACTIONS.entries()) {
      const n = k + 1;
      if (await grabFrame(input, source.durationSeconds * f, path.join(dir, VOD_IMAGES.frame(n)), 1280, this.env, signal)) {
        await put(VOD_IMAGES.frame(n), VOD_IMAGES.frame(n));
        frames.push(n);
      }
    }
    const main = frames.includes(DEFAULT_POSTER_FRAME) ? DEFAULT_POSTER_FRAME : frames[0];
    let posterSet: string | null = row.posterKey;
    if (main !== undefined) {
      const from = path.join(dir, VOD_IMAGES.frame(main));
      // frames are at most 1280 wide already: the large thumbnail is the frame itself (never upscaled)
      await put(VOD_IMAGES.frame(main), VOD_IMAGES.thumbLarge);
      if (await scaleImage(from, path.join(dir, VOD_IMAGES.thumbSmall), 320, this.env, signal)) await put(VOD_IMAGES.thumbSmall, VOD_IMAGES.thumbSmall);
      if (!row.posterKey) {
        await put(VOD_IMAGES.frame(main), 'poster.jpg');
        posterSet = posterKey(row.storagePrefix);
      }
    }
    const sprite = path.join(dir, VOD_IMAGES.storyboard);
    let board = false;
    if (source.durationSeconds > 0 && (await storyboard(input, source.durationSeconds, sprite, this.env, signal))) {
      await put(VOD_IMAGES.storyboard, VOD_IMAGES.storyboard);
      await this.deps.store.put(`${row.storagePrefix}${VOD_IMAGES.storyboardVtt}`, new TextEncoder().encode(storyboardVtt(storyboardPlan(source.durationSeconds), source.durationSeconds)), CONTENT_TYPES.vtt!);
      board = true;
    }
    const kept = await this.deps.db.update(vod).set({ storyboard: board, posterKey: posterSet }).where(eq(vod.id, row.id)).returning({ id: vod.id });
    if (!kept.length) {
      await this.deps.store.deletePrefix(row.storagePrefix);
      throw new VodDeleted();
    }
    row.storyboard = board;
    row.posterKey = posterSet;
    await this.deps.bus.publish('vod.updated', { vodId: row.id, channelId: row.channelId });
  }

  /** The owner's inbox learns the whole ladder is ready. */
  private async notifyOwner(row: VodRow) {
    const [ch] = await this.deps.db.select({ ownerId: channel.ownerId, slug: channel.slug, title: channel.title }).from(channel).where(eq(channel.id, row.channelId)).limit(1);
    if (!ch) return;
    const [added] = await this.deps.db
      .insert(notification)
      .values({ userId: ch.ownerId, kind: 'vod.ready', channelId: row.channelId, liveSessionId: row.liveSessionId, data: { slug: ch.slug, title: ch.title, vodId: row.id, vodTitle: row.title } })
      .onConflictDoNothing()
      .returning({ id: notification.id, createdAt: notification.createdAt });
    // the owner's open tabs hear it at once (through the API: this process may have no Socket.IO)
    if (added) {
      const view = { id: added.id, kind: 'vod.ready' as const, vod: { id: row.id, title: row.title }, channel: { slug: ch.slug, title: ch.title }, liveSessionId: row.liveSessionId, createdAt: added.createdAt.toISOString(), read: false };
      await this.deps.bus.publish('user.notified', { userId: ch.ownerId, notification: view });
    }
  }

  /** The job was given up: what was not ready is failed (the row says so; what is ready stays watchable). */
  private async failRemaining(vodId: string, error: string) {
    const [row] = await this.deps.db.select().from(vod).where(eq(vod.id, vodId)).limit(1);
    if (!row) return;
    const ladder = row.renditions.map((r) => (r.status === 'ready' ? r : { ...r, status: 'failed' as const }));
    await this.save(row, ladder);
    this.deps.log.warn({ vodId, error }, 'transcode given up');
  }

  /** Stops every transcode running here (their FFmpeg children killed; their jobs are retried elsewhere or later). */
  close(): Promise<void> {
    this.closed = true;
    return (this.closing ??= (async () => {
      for (const r of this.running.values()) r.abort.abort();
      await Promise.all([...this.running.values()].map((r) => r.done));
    })());
  }
}
