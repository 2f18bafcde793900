// The media plane's nodes for an admin (SFU_DISCOVERY=redis): which are registered, how loaded, which broadcasts
// each holds; and draining one before taking it down (sfu/cluster/SfuNode.ts: no new broadcasts, its own left to end
// for SFU_DRAIN_GRACE_MS, then the process stops).
import { createRoute } from '@hono/zod-openapi';
import { invalidState, notFound, unavailable } from '../../shared/errors.ts';
import { NODE_ID_PATTERN, type SfuNodes } from '../../shared/sfu-nodes.ts';
import { requireRole } from '../access.ts';
import { json, problems, router, z } from '../openapi.ts';

const SfuNode = z
  .object({
    id: z.string(),
    url: z.string().openapi({ description: 'Its HTTP base as this API reaches it' }),
    capacity: z.number().int().openapi({ description: 'Viewers it takes at once' }),
    load: z.number().int().openapi({ description: 'Viewers it holds now' }),
    channels: z.array(z.object({ id: z.string(), slug: z.string() })).openapi({ description: 'Channels whose broadcast it receives (their origin)' }),
    draining: z.boolean(),
  })
  .openapi('SfuNode');

const NodeId = z.object({ id: z.string().regex(NODE_ID_PATTERN).openapi({ param: { name: 'id', in: 'path' } }) });

/** The registry, or 409 when this API does not use one (SFU in process, or one SFU_URL). */
function registry(nodes: SfuNodes | undefined): SfuNodes {
  if (nodes?.kind !== 'redis') throw invalidState('This API routes to no registered SFU nodes (SFU_DISCOVERY=redis is not set).');
  return nodes;
}

/** The registry's nodes, or 503 while it cannot be read. */
const listed = (nodes: SfuNodes) => nodes.list().catch(() => {
  throw unavailable('The SFU node registry cannot be read right now (Redis away); try again shortly.', 5000);
});

export const sfuNodesApp = router()
  .openapi(
    createRoute({
      method: 'get',
      path: '/sfu-nodes',
      tags: ['admin'],
      summary: 'The SFU nodes registered now, with their load (admin)',
      responses: { 200: json(z.object({ nodes: z.array(SfuNode) }), 'The nodes.'), ...problems(401, 403, 409, 503) },
    }),
    async (c) => {
      requireRole(c, 'admin');
      const nodes = await listed(registry(c.var.deps.sfuNodes));
      return c.json({ nodes: nodes.sort((a, b) => a.id.localeCompare(b.id)) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/sfu-nodes/{id}/drain',
      tags: ['admin'],
      summary: 'Drain an SFU node: no new broadcasts, its own left to end, then it stops (admin)',
      request: { params: NodeId },
      responses: { 202: json(z.object({ node: SfuNode }), 'Asked; the node says draining in the registry at once.'), ...problems(401, 403, 404, 409, 503) },
    }),
    async (c) => {
      requireRole(c, 'admin');
      const { id } = c.req.valid('param');
      const node = (await listed(registry(c.var.deps.sfuNodes))).find((n) => n.id === id);
      if (!node) throw notFound(`SFU node "${id}"`);
      await c.var.deps.bus.publish('sfu.drain', { nodeId: id });
      c.var.deps.log.info({ node: id, by: c.var.user?.id }, 'asked an SFU node to drain');
      return c.json({ node: { ...node, draining: true } }, 202);
    },
  );
