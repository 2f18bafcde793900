// Liveness, readiness (database reachable) and Prometheus metrics.
import { createRoute } from '@hono/zod-openapi';
import { json, problems, router, z } from '../openapi.ts';

const Health = z.object({ status: z.literal('ok') }).openapi('Health');
const Ready = z.object({ status: z.literal('ok'), database: z.enum(['postgres', 'pglite']), bus: z.enum(['memory', 'redis']) }).openapi('Ready');

export const healthApp = router()
  .openapi(
    createRoute({ method: 'get', path: '/healthz', tags: ['ops'], summary: 'Liveness', responses: { 200: json(Health, 'The process is up.') } }),
    (c) => c.json({ status: 'ok' as const }, 200),
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      tags: ['ops'],
      summary: 'Readiness: the database answers',
      responses: { 200: json(Ready, 'Ready to serve.'), 503: problems(503)[503]! },
    }),
    async (c) => {
      const { database, bus, log } = c.var.deps;
      try {
        await database.ping();
      } catch (err) {
        log.warn({ err }, 'readiness: database unreachable');
        return c.body(
          JSON.stringify({ type: 'about:blank', title: 'Not ready', status: 503, detail: 'The database is unreachable.' }),
          503,
          { 'Content-Type': 'application/problem+json' },
        ) as never;
      }
      return c.json({ status: 'ok' as const, database: database.kind, bus: bus.kind }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/metrics',
      tags: ['ops'],
      summary: 'Prometheus metrics',
      responses: { 200: { description: 'Prometheus text format.', content: { 'text/plain': { schema: z.string() } } } },
    }),
    async (c) => {
      const { registry } = c.var.deps.metrics;
      return c.text(await registry.metrics(), 200, { 'Content-Type': registry.contentType });
    },
  );
