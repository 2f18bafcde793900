// What the browser needs to know of this server's configuration before it sends anything: limits set by environment
// variables, so the web client checks against the configured value rather than a default it was built with.
import { createRoute } from '@hono/zod-openapi';
import { json, router, z } from '../openapi.ts';

const PublicConfig = z
  .object({
    maxUploadBytes: z.number().int().openapi({ description: 'Largest avatar upload, in bytes (MAX_UPLOAD_BYTES).' }),
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
  (c) => c.json({ maxUploadBytes: c.var.deps.config.maxUploadBytes }, 200),
);
