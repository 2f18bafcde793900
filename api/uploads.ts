// /api/uploads as the rest of Glint sees it: the tus route's gate in front of the server (api/upload-server.ts), and
// what the transcoder and VoD deletion ask of uploads. The gate runs before @tus/server reads anything: the per-address
// budgets, the upload's owner for every request naming one (anyone else: 404, as if it did not exist), and a chunk's
// size bound (UPLOAD_CHUNK_BYTES plus slack).
import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { upload } from '../shared/db/index.ts';
import { AppError, notFound, tooLarge, unauthorized, unavailable } from '../shared/errors.ts';
import type { AppEnv, Deps } from './context.ts';
import { UPLOADS_PATH } from './upload-server.ts';

export { UPLOADS_PATH, VOD_ID_HEADER, Uploads } from './upload-server.ts';

/** A chunk's body may exceed the configured chunk size by this much (clients round; tus-js-client does not). */
const CHUNK_SLACK_BYTES = 1 << 20;
/** How long a presigned URL for FFmpeg lives (a transcode of a long file reads it for a while). */
const INPUT_URL_SECONDS = 12 * 3600;

/**
 * The tus route's own gate, before @tus/server reads anything: the per-address budgets, the upload's owner for every
 * request naming one, and the chunk's size bound (the header's, and the bytes' as they stream when there is none).
 */
export async function tusRoute(c: Context<AppEnv>): Promise<Response> {
  const { deps, user, address } = c.var;
  const limits = deps.limits;
  await limits.take('upload requests', [limits.uploadRequests, address]);
  const method = c.req.method;
  const rest = c.req.path.slice(UPLOADS_PATH.length).replace(/^\/+/, '');
  if (rest.includes('/')) throw notFound('That upload');
  if (rest && method !== 'OPTIONS') {
    if (!user) throw unauthorized('Sign in to continue this upload.');
    const [row] = await deps.database.db.select({ userId: upload.userId, status: upload.status }).from(upload).where(eq(upload.id, rest)).limit(1);
    // someone else's upload is answered as if it did not exist: its id is not a credential
    if (!row || row.userId !== user.id) throw notFound('That upload');
    if (method === 'DELETE' && row.status !== 'uploading') throw new AppError('conflict', 'Only an unfinished upload can be cancelled; delete its video instead.');
    if (method === 'GET') throw new AppError('bad-request', 'An upload is not read back over tus; HEAD it for its offset.');
  } else if (!rest && method !== 'POST' && method !== 'OPTIONS') {
    throw new AppError('bad-request', `${method} ${UPLOADS_PATH} is not a tus request; create an upload with POST.`);
  }
  let req = c.req.raw;
  let release: (() => void) | undefined;
  if (req.body && (method === 'PATCH' || method === 'POST')) {
    const max = deps.config.uploads.chunkBytes + CHUNK_SLACK_BYTES;
    const declared = req.headers.get('content-length');
    if (declared !== null && Number(declared) > max) throw tooLarge(`A chunk is at most ${max} bytes (UPLOAD_CHUNK_BYTES); send the file in chunks.`);
    release = limits.uploadsRunning.acquire(address);
    if (!release) throw unavailable('Too many uploads are being received right now; try again in a moment.', 2000);
    if (declared === null) req = new Request(req, { body: req.body.pipeThrough(byteLimit(max)), duplex: 'half' } as RequestInit);
  }
  try {
    const res = await deps.uploads.handle(req, user);
    // terminated: the row goes too (its quota with it); nothing of the upload is left to show
    if (method === 'DELETE' && res.status === 204) await deps.database.db.delete(upload).where(eq(upload.id, rest));
    return res;
  } finally {
    release?.();
  }
}

/** Passes bytes through until `max` of them, then fails the stream (a chunk with no Content-Length). */
function byteLimit(max: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > max) controller.error(tooLarge(`A chunk is at most ${max} bytes (UPLOAD_CHUNK_BYTES).`));
      else controller.enqueue(chunk);
    },
  });
}

/** Where FFmpeg reads upload `uploadId`'s file: its path (file store) or a presigned GET URL (S3). For the transcoder. */
export async function uploadInput(deps: Pick<Deps, 'uploads'>, uploadId: string): Promise<{ input: string }> {
  return { input: await deps.uploads.store.input(uploadId, INPUT_URL_SECONDS) };
}

/** Removes upload `uploadId`'s file and its row (frees its quota); for deleting a VoD made from it. */
export async function removeUpload(deps: Pick<Deps, 'uploads' | 'database'>, uploadId: string): Promise<void> {
  await deps.uploads.store.remove(uploadId);
  await deps.database.db.delete(upload).where(eq(upload.id, uploadId));
}

