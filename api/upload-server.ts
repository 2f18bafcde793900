// The tus server behind /api/uploads (api/uploads.ts is its route and its API for the rest of Glint): @tus/server's
// Web-standard handler, so the same code runs on Node and Deno, over the store shared/host/upload-stores.ts picks from
// config. It keeps the `upload` rows and decides what may be uploaded:
// - creation (POST) needs a session and a channel of the caller's, a declared length under UPLOAD_MAX_FILE_BYTES,
//   and room in the caller's quotas (total and per 24 h, counted from declared lengths, so an upload that would go
//   over is refused before a byte of it is sent);
// - the last chunk is answered only after the file is probed (api/upload-check.ts): refused → the row says why and the
//   bytes are removed; accepted → a VoD row in 'processing' and a 'vod.transcode' job in one transaction, its id in
//   the answer's Glint-Vod-Id header;
// - unfinished uploads past UPLOAD_EXPIRE_HOURS are removed by a timer (rows marked 'expired').
// Refusals are problem+json bodies (shared/errors.ts), which tus-js-client hands to the page with the status.
import { Server, type DataStore, type Upload } from '@tus/server';
import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Config } from '../shared/config.ts';
import { channel, job, upload, vod, type Database } from '../shared/db/index.ts';
import { AppError, forbidden, invalid, notFound, problemForStatus, tooLarge, unauthorized } from '../shared/errors.ts';
import { unrefTimer } from '../shared/host/process.ts';
import { createUploadStore, type UploadStore } from '../shared/host/upload-stores.ts';
import type { Logger } from '../shared/logger.ts';
import { vodPrefix } from '../shared/media.ts';
import { checkVideo } from './upload-check.ts';
import type { JobPayloads, Jobs } from '../shared/jobs.ts';

/** Where the tus endpoint is mounted (its Location headers are relative to it). */
export const UPLOADS_PATH = '/api/uploads';
/** The header naming the VoD an accepted upload became. */
export const VOD_ID_HEADER = 'Glint-Vod-Id';

/** Who is asking (the session's user), as the route hands it over. */
export type Uploader = { id: string };

/** Upload-Metadata's keys, as the web client sends them (base64 values, decoded by tus). */
const MetadataSchema = z.object({
  channel: z.string().trim().min(1, 'names no channel').max(64),
  filename: z.string().trim().min(1).max(255).optional(),
  title: z.string().trim().max(200).optional(),
});

/** A tus hook's refusal: @tus/server sends status_code and body as they are; the body is our problem+json. */
type TusError = { status_code: number; body: string };
const tusError = (err: AppError): TusError => ({ status_code: err.status, body: JSON.stringify(err.toProblem(UPLOADS_PATH)) });

/** What a request carries into the tus hooks, which see only the Request. */
type RequestContext = { user: Uploader | null };

const binary = (n: number) => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${n} bytes`);

/** The tus server and the upload rows: one per API process, closed with it. */
export class Uploads {
  readonly server: Server;
  private readonly contexts = new WeakMap<Request, RequestContext>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private sweeping: Promise<number> | undefined;
  private closed = false;

  private constructor(
    private readonly config: Config,
    private readonly database: Database,
    private readonly log: Logger,
    private readonly jobs: Jobs,
    readonly store: UploadStore,
  ) {
    this.server = new Server({
      path: UPLOADS_PATH,
      datastore: store.datastore as DataStore,
      relativeLocation: true,
      disableTerminationForFinishedUploads: true,
      allowedCredentials: true,
      allowedOrigins: (origin) => origin === new URL(config.publicUrl).origin || config.trustedOrigins.includes(origin),
      exposedHeaders: [VOD_ID_HEADER],
      // no maxSize: tus would refuse a large file before onUploadCreate with only "Maximum size exceeded"; created()
      // checks UPLOAD_MAX_FILE_BYTES with the file's size and the limit in its answer (the web client reads the
      // limit from /api/config)
      onUploadCreate: (req, up) => this.created(req, up),
      onUploadFinish: (req, up) => this.finished(up),
      // a tus error (plain text) becomes a problem; a hook's refusal already is one
      onResponseError: (_req, err) => {
        const status = 'status_code' in err ? err.status_code : 500;
        const body = 'body' in err ? err.body : '';
        if (body.startsWith('{')) return { status_code: status, body };
        if (status >= 500) this.log.error({ err }, 'upload failed');
        const detail = status >= 500 ? 'The upload could not be stored; try again.' : body.trim() || 'Bad upload request.';
        return { status_code: status, body: JSON.stringify(problemForStatus(status, detail, UPLOADS_PATH)) };
      },
    });
  }

  /** The store chosen from config and its expiry timer started. */
  static async open(parts: { config: Config; database: Database; log: Logger; jobs: Jobs }): Promise<Uploads> {
    const store = await createUploadStore(parts.config);
    const uploads = new Uploads(parts.config, parts.database, parts.log.child({ svc: 'uploads' }), parts.jobs, store);
    // sweep a few times per expiry period, at most every 15 min
    const every = Math.min(15 * 60_000, Math.max(1000, parts.config.uploads.expireMs / 4));
    uploads.timer = setInterval(() => void uploads.sweep().catch((err) => uploads.log.warn({ err }, 'could not remove expired uploads')), every);
    unrefTimer(uploads.timer);
    return uploads;
  }

  /** Answers one tus request for `user` (the Hono route below has checked its owner and bounded its body). */
  async handle(req: Request, user: Uploader | null): Promise<Response> {
    this.contexts.set(req, { user });
    const res = await this.server.handleWeb(req);
    if (res.status < 400) return res;
    // tus answers some refusals itself in plain text (412 without Tus-Resumable, 400 for a malformed header)
    const text = req.method === 'HEAD' ? '' : await res.text();
    const body = text.startsWith('{') ? text : JSON.stringify(problemForStatus(res.status, text.trim() || 'Bad upload request.', UPLOADS_PATH));
    const headers = new Headers(res.headers);
    headers.set('Content-Type', 'application/problem+json');
    headers.delete('Content-Length');
    return new Response(req.method === 'HEAD' ? null : body, { status: res.status, headers });
  }

  /** onUploadCreate: the caller, their channel, the declared length and the quotas; then the row. */
  private async created(req: Request, up: Upload): Promise<{ metadata?: Upload['metadata'] }> {
    try {
      const user = this.contexts.get(req)?.user;
      if (!user) throw unauthorized('Sign in to upload a video.');
      if (up.sizeIsDeferred || up.size === undefined) throw invalid('Declare the file size (Upload-Length); uploads of unknown length are not accepted.');
      const size = up.size;
      const u = this.config.uploads;
      if (size > u.maxFileBytes) throw tooLarge(`The file is ${binary(size)}; the largest upload is ${binary(u.maxFileBytes)}.`);
      const meta = MetadataSchema.safeParse(Object.fromEntries(Object.entries(up.metadata ?? {}).filter(([, v]) => v !== null)));
      if (!meta.success) {
        const issue = meta.error.issues[0]!;
        throw invalid(`Upload-Metadata ${issue.path.join('.') || ''} ${issue.message}.`.replace(/\s+/g, ' '));
      }
      const db = this.database.db;
      const [ch] = await db.select({ id: channel.id, ownerId: channel.ownerId }).from(channel).where(eq(channel.slug, meta.data.channel.toLowerCase())).limit(1);
      if (!ch) throw notFound(`The channel "${meta.data.channel}"`);
      if (ch.ownerId !== user.id) throw forbidden('You may upload only to your own channels.');
      // quotas from declared lengths: what is stored or on its way (total), and what was started in the last 24 h
      const live = inArray(upload.status, ['uploading', 'probing', 'accepted']);
      const [used] = await db
        .select({
          total: sql<string>`coalesce(sum(${upload.sizeBytes}), 0)`,
          day: sql<string>`coalesce(sum(${upload.sizeBytes}) filter (where ${upload.createdAt} >= now() - interval '24 hours'), 0)`,
        })
        .from(upload)
        .where(and(eq(upload.userId, user.id), live));
      const total = Number(used?.total ?? 0);
      const day = Number(used?.day ?? 0);
      if (total + size > u.quotaBytes) {
        throw tooLarge(`This upload (${binary(size)}) would exceed your storage quota of ${binary(u.quotaBytes)}: you use ${binary(total)}. Delete videos to make room.`);
      }
      if (day + size > u.dailyQuotaBytes) {
        throw tooLarge(`This upload (${binary(size)}) would exceed your daily upload quota of ${binary(u.dailyQuotaBytes)}: you uploaded ${binary(day)} in the last 24 hours.`);
      }
      await db.insert(upload).values({
        id: up.id,
        userId: user.id,
        channelId: ch.id,
        filename: meta.data.filename ?? 'video',
        sizeBytes: size,
        expiresAt: new Date(Date.now() + u.expireMs),
      });
      return { metadata: up.metadata };
    } catch (err) {
      throw err instanceof AppError ? tusError(err) : err;
    }
  }

  /** onUploadFinish: probe, then a VoD and its transcode job, or the refusal and nothing left of the file. */
  private async finished(up: Upload): Promise<{ headers?: Record<string, string> }> {
    const db = this.database.db;
    const [row] = await db.update(upload).set({ status: 'probing', finishedAt: new Date() }).where(and(eq(upload.id, up.id), eq(upload.status, 'uploading'))).returning();
    if (!row) throw tusError(notFound('That upload'));
    const input = await this.store.input(up.id, 600);
    const verdict = await checkVideo(input, up.size ?? 0, this.config.uploads.maxDurationSeconds);
    if (!verdict.ok) {
      await this.store.remove(up.id);
      await db.update(upload).set({ status: 'refused', refusal: verdict.refusal.reason }).where(eq(upload.id, up.id));
      this.log.info({ uploadId: up.id, kind: verdict.refusal.kind }, 'upload refused');
      const status = verdict.refusal.kind === 'too-long' ? tooLarge(verdict.refusal.reason) : new AppError('unsupported-media-type', verdict.refusal.reason);
      throw tusError(status);
    }
    const vodId = crypto.randomUUID();
    const title = up.metadata?.title?.trim() || titleFromFilename(row.filename);
    const now = new Date();
    const payload: JobPayloads['vod.transcode'] = { vodId };
    await db.transaction(async (tx) => {
      await tx.insert(vod).values({
        id: vodId,
        channelId: row.channelId,
        title,
        status: 'processing',
        source: 'upload',
        uploadId: up.id,
        startedAt: now,
        endedAt: now,
        durationMs: verdict.media.durationMs,
        sizeBytes: row.sizeBytes,
        codecs: verdict.media.codecs,
        storagePrefix: vodPrefix(vodId),
      });
      await tx.update(upload).set({ status: 'accepted', vodId }).where(eq(upload.id, up.id));
      // the job in the same transaction: a VoD in 'processing' always has its transcode coming
      await tx.insert(job).values({ kind: 'vod.transcode', key: `vod.transcode:${vodId}`, payload }).onConflictDoNothing({ target: job.key });
    });
    this.jobs.wake();
    this.log.info({ uploadId: up.id, vodId }, 'upload accepted');
    return { headers: { [VOD_ID_HEADER]: vodId } };
  }

  /** Removes unfinished uploads past their expiry: the tus store's own sweep, then each expired row's bytes. */
  sweep(): Promise<number> {
    return (this.sweeping ??= (async () => {
      try {
        await this.store.datastore.deleteExpired().catch((err: unknown) => this.log.debug({ err }, 'tus deleteExpired'));
        const db = this.database.db;
        const stale = await db.select({ id: upload.id }).from(upload).where(and(eq(upload.status, 'uploading'), lt(upload.expiresAt, new Date())));
        for (const { id } of stale) {
          await this.store.remove(id);
          await db.update(upload).set({ status: 'expired' }).where(and(eq(upload.id, id), eq(upload.status, 'uploading')));
        }
        if (stale.length) this.log.info({ count: stale.length }, 'expired uploads removed');
        return stale.length;
      } finally {
        this.sweeping = undefined;
      }
    })());
  }

  /** The caller's uploads, newest first, with the offset of each one still uploading. */
  async listOf(userId: string) {
    const db = this.database.db;
    const rows = await db
      .select({ u: upload, slug: channel.slug })
      .from(upload)
      .innerJoin(channel, eq(channel.id, upload.channelId))
      .where(and(eq(upload.userId, userId), gte(upload.createdAt, new Date(Date.now() - 30 * 86_400_000))))
      .orderBy(desc(upload.createdAt))
      .limit(100);
    return Promise.all(
      rows.map(async ({ u, slug }) => {
        let offset = u.status === 'accepted' ? u.sizeBytes : 0;
        if (u.status === 'uploading') offset = await this.store.datastore.getUpload(u.id).then((x) => x.offset, () => 0);
        return {
          id: u.id,
          channel: slug,
          filename: u.filename,
          sizeBytes: u.sizeBytes,
          offset,
          progress: u.sizeBytes > 0 ? offset / u.sizeBytes : 1,
          status: u.status,
          refusal: u.refusal,
          vodId: u.vodId,
          createdAt: u.createdAt.toISOString(),
          expiresAt: u.status === 'uploading' ? u.expiresAt.toISOString() : null,
        };
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.sweeping?.catch(() => undefined);
  }
}

/** A title from a file name: without its extension, separators as spaces. */
function titleFromFilename(name: string): string {
  const base = name.replace(/\.[A-Za-z0-9]{1,5}$/, '').replace(/[_.]+/g, ' ').trim();
  return (base || 'Untitled video').slice(0, 200);
}
