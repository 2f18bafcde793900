// What the browser needs to know of this server's configuration before it sends anything: limits set by environment
// variables, so the web client checks against the configured value rather than a default it was built with.
import { createRoute } from '@hono/zod-openapi';
import { json, router, z } from '../openapi.ts';

const PublicConfig = z
  .object({
    maxUploadBytes: z.number().int().openapi({ description: 'Largest avatar upload, in bytes (MAX_UPLOAD_BYTES).' }),
    uploadChunkBytes: z.number().int().openapi({ description: 'The chunk size a video upload (tus, /api/uploads) sends each PATCH in (UPLOAD_CHUNK_BYTES).' }),
    uploadMaxFileBytes: z.number().int().openapi({ description: 'Largest video file an upload may declare (UPLOAD_MAX_FILE_BYTES).' }),
  })
  .openapi('PublicConfig');

export const configApp = router().openapi(
  createRoute({
    method: 'get',
    path: '/config',
    tags: ['ops'],
    summary: "This server's limits the web client checks before sending",
    responses: { 200: json(PublicConfig, 'The configured limits.') },
  }),
  (c) => {
    const { maxUploadBytes, uploads } = c.var.deps.config;
    return c.json({ maxUploadBytes, uploadChunkBytes: uploads.chunkBytes, uploadMaxFileBytes: uploads.maxFileBytes }, 200);
  },
);
