// Stream keys per channel: create (shown once), list, rotate, revoke. Owner and admin only.
import { createRoute } from '@hono/zod-openapi';
import { and, asc, count, eq, isNull } from 'drizzle-orm';
import { channel, streamKey } from '../../shared/db/index.ts';
import { conflict, notFound } from '../../shared/errors.ts';
import { INVISIBLE_MESSAGE, isVisibleLine, STREAM_KEY_LABEL_MAX } from '../../shared/rules.ts';
import { generateStreamKey } from '../../shared/stream-keys.ts';
import { requireRank, withChannel } from '../channel-context.ts';
import { json, problems, router, z } from '../openapi.ts';

export const MAX_KEYS_PER_CHANNEL = 10;

const StreamKeySchema = z
  .object({
    id: z.uuid(),
    label: z.string(),
    prefix: z.string().openapi({ description: 'First characters of the key, to tell keys apart.' }),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
  })
  .openapi('StreamKey');

const NewStreamKey = StreamKeySchema.extend({
  key: z.string().openapi({ description: 'The key itself. Shown this once; only a hash is stored.' }),
}).openapi('NewStreamKey');

const SlugParam = z.object({ slug: z.string().max(64) });
const KeyParams = SlugParam.extend({ id: z.uuid('not a stream key id') });
const CreateBody = z.object({ label: z.string().trim().min(1).max(STREAM_KEY_LABEL_MAX).refine(isVisibleLine, INVISIBLE_MESSAGE).default('default') }).strict().openapi('CreateStreamKey');

type KeyRow = typeof streamKey.$inferSelect;
const serialize = (k: KeyRow) => ({
  id: k.id,
  label: k.label,
  prefix: k.prefix,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
});

const tags = ['stream keys'];

export const streamKeysApp = router()
  .openapi(
    ...withChannel(
      createRoute({
        method: 'get',
        path: '/{slug}/stream-keys',
        tags,
        summary: "List a channel's active stream keys (without the secrets)",
        request: { params: SlugParam },
        responses: { 200: json(z.array(StreamKeySchema), 'Active keys, oldest first.'), ...problems(401, 403, 404) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const ch = c.var.channel;
        requireRank(c, 'keys');
        const rows = await db.select().from(streamKey)
          .where(and(eq(streamKey.channelId, ch.id), isNull(streamKey.revokedAt))).orderBy(asc(streamKey.createdAt));
        return c.json(rows.map(serialize), 200);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'post',
        path: '/{slug}/stream-keys',
        tags,
        summary: 'Create a stream key',
        request: { params: SlugParam, body: { required: false, content: { 'application/json': { schema: CreateBody } } } },
        responses: { 201: json(NewStreamKey, 'Created; the key is in the body once.'), ...problems(400, 401, 403, 404, 409, 413, 415, 429) },
      }),
      async (c) => {
        const { database, limits } = c.var.deps;
        const { db } = database;
        const ch = c.var.channel;
        const me = requireRank(c, 'keys');
        await limits.take('stream keys created', [limits.streamKeyCreates, me.id]);
        const { key, prefix, hash } = generateStreamKey();
        const row = await db.transaction(async (tx) => {
          // the channel's row lock makes count-then-insert one step: concurrent creates cannot all see a free place
          await tx.select({ id: channel.id }).from(channel).where(eq(channel.id, ch.id)).for('update');
          const [active] = await tx.select({ n: count() }).from(streamKey).where(and(eq(streamKey.channelId, ch.id), isNull(streamKey.revokedAt)));
          if ((active?.n ?? 0) >= MAX_KEYS_PER_CHANNEL) throw conflict(`A channel can have at most ${MAX_KEYS_PER_CHANNEL} active stream keys; revoke one first.`);
          const [created] = await tx.insert(streamKey).values({ channelId: ch.id, label: c.req.valid('json')?.label ?? 'default', prefix, hash }).returning();
          return created!;
        });
        return c.json({ ...serialize(row), key }, 201);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'post',
        path: '/{slug}/stream-keys/{id}/rotate',
        tags,
        summary: 'Replace a key with a new one (the old one stops working at once)',
        request: { params: KeyParams },
        responses: { 201: json(NewStreamKey, 'The replacement; the key is in the body once.'), ...problems(400, 401, 403, 404, 429) },
      }),
      async (c) => {
        const { database, bus, limits } = c.var.deps;
        const { slug, id } = c.req.valid('param');
        const ch = c.var.channel;
        const me = requireRank(c, 'keys');
        await limits.take('stream keys created', [limits.streamKeyCreates, me.id]);
        const { key, prefix, hash } = generateStreamKey();
        const created = await database.db.transaction(async (tx) => {
          const [old] = await tx.update(streamKey).set({ revokedAt: new Date() })
            .where(and(eq(streamKey.id, id), eq(streamKey.channelId, ch.id), isNull(streamKey.revokedAt))).returning();
          if (!old) throw notFound('That stream key');
          const [row] = await tx.insert(streamKey).values({ channelId: ch.id, label: old.label, prefix, hash }).returning();
          return row!;
        });
        await bus.publish('streamkey.revoked', { channelId: ch.id, keyId: id });
        return c.json({ ...serialize(created), key }, 201);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'delete',
        path: '/{slug}/stream-keys/{id}',
        tags,
        summary: 'Revoke a stream key',
        request: { params: KeyParams },
        responses: { 204: { description: 'Revoked.' }, ...problems(400, 401, 403, 404) },
      }),
      async (c) => {
        const { database, bus } = c.var.deps;
        const { slug, id } = c.req.valid('param');
        const ch = c.var.channel;
        requireRank(c, 'keys');
        const [old] = await database.db.update(streamKey).set({ revokedAt: new Date() })
          .where(and(eq(streamKey.id, id), eq(streamKey.channelId, ch.id), isNull(streamKey.revokedAt))).returning();
        if (!old) throw notFound('That stream key');
        await bus.publish('streamkey.revoked', { channelId: ch.id, keyId: id });
        return c.body(null, 204);
      },
    ),
  );
