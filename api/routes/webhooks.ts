// A channel's outgoing webhooks (owner and admin): register a URL for some of `channel.live`, `channel.offline`,
// `vod.ready` (the signing secret is shown once, at creation), change or remove it, read its delivery log.
import { createRoute } from '@hono/zod-openapi';
import { and, asc, count, desc, eq } from 'drizzle-orm';
import { WEBHOOK_EVENTS, webhook, webhookDelivery } from '../../shared/db/index.ts';
import { conflict, invalid, notFound } from '../../shared/errors.ts';
import { requireRank, withChannel } from '../channel-context.ts';
import { json, problems, router, z } from '../openapi.ts';
import { isPrivateAddress, newSecret } from '../webhooks.ts';

export const MAX_WEBHOOKS_PER_CHANNEL = 10;

const Url = z
  .url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })
  .max(2000)
  .refine((u) => !URL.canParse(u) || (!new URL(u).username && !new URL(u).password), 'no credentials in the URL; verify the signature instead');
/**
 * A URL naming a private address outright (a literal IP, localhost) is refused when it is registered, with a message
 * to act on; names are checked again on the address each delivery connects to (DNS can change), in api/webhooks.ts.
 */
function requireReachable(url: string | undefined, allowPrivate: boolean) {
  if (!url || allowPrivate) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isPrivateAddress(host) || /(^|\.)localhost\.?$/i.test(host)) {
    const message = `${host} is a loopback or private address, which webhooks may not reach on this server (WEBHOOK_ALLOW_PRIVATE)`;
    throw invalid(message, [{ path: 'json.url', message }]);
  }
}
const Events = z.array(z.enum(WEBHOOK_EVENTS)).min(1, 'subscribe to at least one event').transform((e) => [...new Set(e)]);

const WebhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    active: z.boolean(),
    secretPrefix: z.string().openapi({ description: 'First characters of the signing secret, to tell secrets apart.' }),
    createdAt: z.iso.datetime(),
  })
  .openapi('Webhook');
const NewWebhook = WebhookSchema.extend({
  secret: z.string().openapi({ description: 'The Standard Webhooks signing secret (whsec_…). Shown this once.' }),
}).openapi('NewWebhook');
const DeliverySchema = z
  .object({
    id: z.uuid(),
    event: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    responseStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.iso.datetime(),
    deliveredAt: z.iso.datetime().nullable(),
    payload: z.unknown(),
  })
  .openapi('WebhookDelivery');

const SlugParam = z.object({ slug: z.string().max(64) });
const HookParams = SlugParam.extend({ id: z.uuid('not a webhook id') });
const CreateBody = z.object({ url: Url, events: Events.default([...WEBHOOK_EVENTS]) }).strict().openapi('CreateWebhook');
const UpdateBody = z
  .object({ url: Url.optional(), events: Events.optional(), active: z.boolean().optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'send at least one field to change')
  .openapi('UpdateWebhook');

type HookRow = typeof webhook.$inferSelect;
const serialize = (h: HookRow) => ({
  id: h.id,
  url: h.url,
  events: h.events as (typeof WEBHOOK_EVENTS)[number][],
  active: h.active,
  secretPrefix: h.secret.slice(0, 10),
  createdAt: h.createdAt.toISOString(),
});

const tags = ['webhooks'];

export const webhooksApp = router()
  .openapi(
    ...withChannel(
      createRoute({
        method: 'get',
        path: '/{slug}/webhooks',
        tags,
        summary: "List a channel's webhooks",
        request: { params: SlugParam },
        responses: { 200: json(z.array(WebhookSchema), 'Oldest first.'), ...problems(401, 403, 404) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const ch = c.var.channel;
        requireRank(c, 'integrations');
        const rows = await db.select().from(webhook).where(eq(webhook.channelId, ch.id)).orderBy(asc(webhook.createdAt));
        return c.json(rows.map(serialize), 200);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'post',
        path: '/{slug}/webhooks',
        tags,
        summary: 'Register a webhook (its signing secret is in this answer only)',
        request: { params: SlugParam, body: { required: true, content: { 'application/json': { schema: CreateBody } } } },
        responses: { 201: json(NewWebhook, 'Registered.'), ...problems(400, 401, 403, 404, 409, 415) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const ch = c.var.channel;
        requireRank(c, 'integrations');
        const [n] = await db.select({ n: count() }).from(webhook).where(eq(webhook.channelId, ch.id));
        if ((n?.n ?? 0) >= MAX_WEBHOOKS_PER_CHANNEL) throw conflict(`A channel has at most ${MAX_WEBHOOKS_PER_CHANNEL} webhooks; remove one first.`);
        const body = c.req.valid('json');
        requireReachable(body.url, c.var.deps.config.webhooks.allowPrivate);
        const [row] = await db.insert(webhook).values({ channelId: ch.id, url: body.url, events: body.events, secret: newSecret() }).returning();
        return c.json({ ...serialize(row!), secret: row!.secret }, 201, { Location: `/api/channels/${ch.slug}/webhooks/${row!.id}` });
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'patch',
        path: '/{slug}/webhooks/{id}',
        tags,
        summary: 'Change a webhook: URL, events, or pause it (active: false)',
        request: { params: HookParams, body: { required: true, content: { 'application/json': { schema: UpdateBody } } } },
        responses: { 200: json(WebhookSchema, 'Changed.'), ...problems(400, 401, 403, 404, 415) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const { slug, id } = c.req.valid('param');
        const ch = c.var.channel;
        requireRank(c, 'integrations');
        requireReachable(c.req.valid('json').url, c.var.deps.config.webhooks.allowPrivate);
        const [row] = await db.update(webhook).set(c.req.valid('json')).where(and(eq(webhook.id, id), eq(webhook.channelId, ch.id))).returning();
        if (!row) throw notFound('That webhook');
        return c.json(serialize(row), 200);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'delete',
        path: '/{slug}/webhooks/{id}',
        tags,
        summary: 'Remove a webhook and its delivery log',
        request: { params: HookParams },
        responses: { 204: { description: 'Removed.' }, ...problems(401, 403, 404) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const { slug, id } = c.req.valid('param');
        const ch = c.var.channel;
        requireRank(c, 'integrations');
        const done = await db.delete(webhook).where(and(eq(webhook.id, id), eq(webhook.channelId, ch.id))).returning({ id: webhook.id });
        if (!done.length) throw notFound('That webhook');
        return c.body(null, 204);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'get',
        path: '/{slug}/webhooks/{id}/deliveries',
        tags,
        summary: "A webhook's delivery log, newest first",
        request: { params: HookParams, query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) }) },
        responses: { 200: json(z.array(DeliverySchema), 'Deliveries: pending (with retries to come), delivered, failed.'), ...problems(400, 401, 403, 404) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const { slug, id } = c.req.valid('param');
        const ch = c.var.channel;
        requireRank(c, 'integrations');
        const [hook] = await db.select({ id: webhook.id }).from(webhook).where(and(eq(webhook.id, id), eq(webhook.channelId, ch.id)));
        if (!hook) throw notFound('That webhook');
        const rows = await db.select().from(webhookDelivery).where(eq(webhookDelivery.webhookId, id)).orderBy(desc(webhookDelivery.createdAt)).limit(c.req.valid('query').limit);
        return c.json(
          rows.map((d) => ({
            id: d.id,
            event: d.event,
            status: d.status,
            attempts: d.attempts,
            responseStatus: d.responseStatus,
            lastError: d.lastError,
            createdAt: d.createdAt.toISOString(),
            deliveredAt: d.deliveredAt?.toISOString() ?? null,
            payload: d.payload,
          })),
          200,
        );
      },
    ),
  );
