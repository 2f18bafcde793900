// /api/uploads: the tus endpoint (api/uploads.ts: creation, offsets, chunks, termination) and the caller's uploads for
// the upload page after a reload. The tus operations are documented here too (headers and answers), so the OpenAPI
// document and the HTTP fuzzer reach them.
import { createRoute } from '@hono/zod-openapi';
import { unauthorized } from '../../shared/errors.ts';
import { upload } from '../../shared/db/index.ts';
import { VOD_ID_HEADER } from '../upload-server.ts';
import { tusRoute } from '../uploads.ts';
import { json, problems, router, z } from '../openapi.ts';

const tags = ['uploads'];

const UploadSchema = z
  .object({
    id: z.string(),
    channel: z.string().openapi({ description: "the channel's slug" }),
    filename: z.string(),
    sizeBytes: z.number().int(),
    offset: z.number().int().openapi({ description: 'bytes received so far' }),
    progress: z.number().min(0).max(1),
    status: z.enum(upload.status.enumValues).openapi({
      description: 'uploading: bytes still to come; probing: complete, being checked; accepted: became vodId; refused: see refusal (its bytes were removed); expired: abandoned and removed',
    }),
    refusal: z.string().nullable(),
    vodId: z.uuid().nullable(),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().nullable().openapi({ description: 'when an unfinished upload is removed' }),
  })
  .openapi('Upload');

const IdParam = z.object({ id: z.string().min(1).max(128).openapi({ param: { name: 'id', in: 'path' } }) });
const tusHeader = (name: string, description: string) => z.string().max(8192).optional().openapi({ param: { name, in: 'header' }, description });
const TusHeaders = z.object({
  'tus-resumable': tusHeader('tus-resumable', 'the tus version, 1.0.0'),
  'upload-length': tusHeader('upload-length', 'the file size in bytes (creation; deferred lengths are refused)'),
  'upload-metadata': tusHeader('upload-metadata', 'comma-separated `key base64value`: channel (slug), filename, title'),
  'upload-offset': tusHeader('upload-offset', 'where this chunk starts (PATCH)'),
});
const tusAnswer = (description: string) => ({ description, headers: z.object({ 'Tus-Resumable': z.string().optional() }) });

export const uploadsApp = router()
  .openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: "The caller's uploads of the last 30 days, newest first",
      responses: { 200: json(z.object({ uploads: z.array(UploadSchema) }), 'Their uploads.'), ...problems(401) },
    }),
    async (c) => {
      const user = c.var.user;
      if (!user) throw unauthorized();
      return c.json({ uploads: await c.var.deps.uploads.listOf(user.id) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Create a tus upload (Upload-Length, Upload-Metadata channel/filename/title); checks quotas',
      request: { headers: TusHeaders },
      responses: {
        201: { ...tusAnswer('Created; Location names the upload.'), headers: z.object({ Location: z.string() }) },
        ...problems(400, 401, 403, 404, 412, 413, 429, 503),
      },
    }),
    (c) => tusRoute(c) as never,
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      tags,
      summary: `Send a chunk (Upload-Offset, Content-Type application/offset+octet-stream); the last one is answered after the file is checked, with ${VOD_ID_HEADER}`,
      request: { params: IdParam, headers: TusHeaders },
      responses: {
        204: { description: `Stored; Upload-Offset is the new offset (${VOD_ID_HEADER} on the last chunk of an accepted file).` },
        ...problems(400, 401, 404, 409, 410, 412, 413, 415, 429, 503),
      },
    }),
    (c) => tusRoute(c) as never,
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags,
      summary: 'Cancel an unfinished upload (tus termination); its bytes are removed',
      request: { params: IdParam, headers: TusHeaders },
      responses: { 204: { description: 'Removed.' }, ...problems(400, 401, 404, 409, 412, 429) },
    }),
    (c) => tusRoute(c) as never,
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'HEAD: the upload offset (tus); GET is refused',
      request: { params: IdParam, headers: TusHeaders },
      responses: { 200: { description: 'HEAD: Upload-Offset and Upload-Length.' }, ...problems(400, 401, 404, 410, 412, 429) },
    }),
    (c) => tusRoute(c) as never,
  );

// CORS preflights of a cross-origin upload page (tus answers them); no body, nothing to document
uploadsApp.options('/', (c) => tusRoute(c));
uploadsApp.options('/:id', (c) => tusRoute(c));
