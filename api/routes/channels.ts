// Channels: public list and detail; create/edit/delete by their owner (and staff); avatar upload.
import { createRoute } from '@hono/zod-openapi';
import { and, arrayContains, desc, eq, ilike, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import { channel, liveSession, vod } from '../../shared/db/index.ts';
import { isUniqueViolation } from '../../shared/db/errors.ts';
import { sha1Hex } from '../../shared/host/hash.ts';
import { previewKey } from '../../shared/media.ts';
import { AppError, invalid, notFound, tooLarge, unsupportedMedia } from '../../shared/errors.ts';
import { requireUser } from '../access.ts';
import { removeChannel } from '../channel-removal.ts';
import { loadChannel, requireRank, selectChannels, withChannel, type ChannelRow } from '../channel-context.ts';
import { AVATAR_MAX_SIDE, CategoryName, CHANNEL_LIMITS, INVISIBLE_MESSAGE, isVisibleLine, isVisibleText, SEARCH_QUERY_MAX, SLUG_PATTERN, TagList } from '../../shared/rules.ts';
import { IMAGE_TYPES, probeImage, servedImageHeaders } from '../images.ts';
import { imageContent, json, problems, router, z } from '../openapi.ts';
import { conditional, notModified } from '../read-cache.ts';
import type { AppEnv } from '../context.ts';

const Slug = z
  .string()
  .regex(SLUG_PATTERN, '3–32 characters: lowercase letters, digits and inner hyphens')
  .openapi({ example: 'night-owl-radio' });
const ChannelFields = {
  title: z.string().trim().min(1, 'title must not be empty').max(CHANNEL_LIMITS.title).refine(isVisibleLine, INVISIBLE_MESSAGE),
  description: z.string().max(CHANNEL_LIMITS.description).refine(isVisibleText, INVISIBLE_MESSAGE),
  category: CategoryName,
  tags: TagList,
  subscribersOnlyLive: z.boolean().openapi({ description: 'Live streams (WHEP and the live recording) for subscribers only' }),
  subscribersOnlyVods: z.boolean().openapi({ description: 'New recordings start subscriber-only' }),
};

const CreateChannel = z
  .object({
    slug: Slug,
    title: ChannelFields.title,
    description: ChannelFields.description.default(''),
    category: ChannelFields.category.default(''),
    tags: ChannelFields.tags.default([]),
  })
  .strict()
  .openapi('CreateChannel');

const UpdateChannel = z
  .object({
    slug: Slug.optional(),
    title: ChannelFields.title.optional(),
    description: ChannelFields.description.optional(),
    category: ChannelFields.category.optional(),
    tags: ChannelFields.tags.optional(),
    subscribersOnlyLive: ChannelFields.subscribersOnlyLive.optional(),
    subscribersOnlyVods: ChannelFields.subscribersOnlyVods.optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'send at least one field to change')
  .openapi('UpdateChannel');

export const ChannelSchema = z
  .object({
    id: z.uuid(),
    slug: z.string(),
    title: z.string(),
    description: z.string(),
    category: z.string(),
    tags: z.array(z.string()),
    avatarUrl: z.string().nullable(),
    live: z
      .object({
        sessionId: z.uuid(),
        source: z.enum(['whip', 'rtmp']),
        startedAt: z.iso.datetime(),
        viewers: z.number().int(),
        title: z.string().openapi({ description: "This broadcast's own title (empty: none given)" }),
        category: z.string().openapi({ description: "This broadcast's category (empty: none given)" }),
        previewUrl: z.string().openapi({ description: 'A recent frame (JPEG, refreshed every ~15 s; 204 No Content while on air before the first one exists)' }),
      })
      .nullable()
      .openapi({ description: 'The current broadcast, or null when offline.' }),
    owner: z.object({ id: z.string(), name: z.string() }),
    followers: z.number().int(),
    subscribersOnlyLive: z.boolean(),
    subscribersOnlyVods: z.boolean(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi('Channel');

export const ChannelPage = z
  .object({ items: z.array(ChannelSchema), total: z.number().int(), limit: z.number().int(), offset: z.number().int() })
  .openapi('ChannelPage');

const SlugParam = z.object({ slug: z.string().max(64).openapi({ param: { name: 'slug', in: 'path' } }) });

export function serialize(r: ChannelRow): z.infer<typeof ChannelSchema> {
  return {
    id: r.id,
    slug: r.slug,
    title: r.title,
    description: r.description,
    category: r.category,
    tags: r.tags,
    // versioned by the stored object, so caches refresh when the image changes and only then
    avatarUrl: r.avatarKey ? `/api/channels/${r.slug}/avatar?v=${sha1Hex(r.avatarKey).slice(0, 10)}` : null,
    live:
      r.liveId && r.liveSource && r.liveStartedAt
        ? { sessionId: r.liveId, source: r.liveSource, startedAt: r.liveStartedAt.toISOString(), viewers: r.liveViewers ?? 0, title: r.liveTitle ?? '', category: r.liveCategory ?? '', previewUrl: `/hls/${previewKey(r.liveId)}` }
        : null,
    owner: { id: r.ownerId, name: r.ownerName },
    followers: r.followers,
    subscribersOnlyLive: r.subscribersOnlyLive,
    subscribersOnlyVods: r.subscribersOnlyVods,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/**
 * A channel's JSON from the read cache (api/read-cache.ts): a crowd opening a channel that just went live costs one
 * query; a missing slug is a 404 and is not kept. Nothing in it depends on who asks (whether they follow it is GET
 * /{slug}/follow's, which is not cached).
 */
export function cachedChannel(c: { var: AppEnv['Variables'] }, slug: string): Promise<z.infer<typeof ChannelSchema>> {
  const { reads, database } = c.var.deps;
  return reads.channel(slug, async () => serialize(await loadChannel(database.db, slug)));
}

function slugTaken(slug: string) {
  const message = `The slug "${slug}" is taken; pick another.`;
  return new AppError('conflict', message, [{ path: 'json.slug', message }]);
}


const tags = ['channels'];

export const channelsApp = router()
  .openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List channels',
      request: {
        query: z.object({
          q: z.string().max(SEARCH_QUERY_MAX).optional().openapi({ description: 'Substring of the title or slug' }),
          category: z.string().max(50).optional(),
          tag: z.string().max(25).optional(),
          owner: z.string().max(64).optional().openapi({ description: 'A user id, or "me"' }),
          live: z.enum(['true', 'false']).optional().openapi({ description: 'Only channels that are (not) live now' }),
          limit: z.coerce.number().int().min(1).max(100).default(24),
          offset: z.coerce.number().int().min(0).max(100_000).default(0),
        }),
      },
      responses: { 200: json(ChannelPage, 'A page of channels: live ones first (most viewers first), then newest.'), ...problems(400, 401) },
    }),
    async (c) => {
      const { db } = c.var.deps.database;
      const q = c.req.valid('query');
      const where: SQL[] = [];
      if (q.q) {
        const like = `%${q.q.replace(/[\\%_]/g, (m) => '\\' + m)}%`;
        where.push(or(ilike(channel.title, like), ilike(channel.slug, like))!);
      }
      if (q.category) where.push(eq(channel.category, q.category));
      if (q.tag) where.push(arrayContains(channel.tags, [q.tag.toLowerCase()]));
      if (q.live) where.push(q.live === 'true' ? isNotNull(liveSession.id) : isNull(liveSession.id));
      if (q.owner) where.push(eq(channel.ownerId, q.owner === 'me' ? requireUser(c).id : q.owner));
      const cond = where.length ? and(...where) : undefined;
      const [rows, [total]] = await Promise.all([
        // live channels first (most watched first), then newest
        selectChannels(db)
          .where(cond)
          .orderBy(sql`${liveSession.id} is null`, desc(sql`coalesce(${liveSession.viewers}, 0)`), desc(channel.createdAt), desc(channel.id))
          .limit(q.limit)
          .offset(q.offset),
        db
          .select({ n: sql<number>`count(*)::int` })
          .from(channel)
          .leftJoin(liveSession, and(eq(liveSession.channelId, channel.id), isNull(liveSession.endedAt)))
          .where(cond),
      ]);
      return c.json({ items: rows.map(serialize), total: total?.n ?? 0, limit: q.limit, offset: q.offset }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Create a channel',
      request: { body: { required: true, content: { 'application/json': { schema: CreateChannel } } } },
      responses: { 201: json(ChannelSchema, 'Created.'), ...problems(400, 401, 409, 413, 415, 429) },
    }),
    async (c) => {
      const me = requireUser(c);
      const body = c.req.valid('json');
      const { database, limits } = c.var.deps;
      const { db } = database;
      await limits.take('channels created', [limits.channelCreates, me.id]);
      try {
        await db.insert(channel).values({ ...body, ownerId: me.id });
      } catch (err) {
        if (isUniqueViolation(err)) throw slugTaken(body.slug);
        throw err;
      }
      const row = await loadChannel(db, body.slug);
      await c.var.deps.bus.publish('channel.created', { channelId: row.id, slug: row.slug, ownerId: me.id });
      return c.json(serialize(row), 201, { Location: `/api/channels/${row.slug}` });
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{slug}',
      tags,
      summary: 'Get a channel',
      description: 'The same answer for every caller (nothing in it depends on who asks), with an ETag: send it back as If-None-Match for a 304 while nothing changed.',
      request: { params: SlugParam },
      responses: { 200: json(ChannelSchema, 'The channel.'), ...notModified, ...problems(404) },
    }),
    async (c) => conditional(c, JSON.stringify(await cachedChannel(c, c.req.valid('param').slug)), true) as never,
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'patch',
        path: '/{slug}',
        tags,
        summary: 'Edit a channel (owner, moderator, admin)',
        request: { params: SlugParam, body: { required: true, content: { 'application/json': { schema: UpdateChannel } } } },
        responses: { 200: json(ChannelSchema, 'Updated.'), ...problems(400, 401, 403, 404, 409, 413, 415) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const current = c.var.channel;
        const patch = c.req.valid('json');
        // the slug and who may watch are the owner's (and admins') to change; site moderators edit the rest
        requireRank(c, patch.slug || patch.subscribersOnlyLive !== undefined || patch.subscribersOnlyVods !== undefined ? 'own' : 'edit');
        try {
          await db.update(channel).set(patch).where(eq(channel.id, current.id));
        } catch (err) {
          if (isUniqueViolation(err)) throw slugTaken(patch.slug!);
          throw err;
        }
        // the VoDs' JSON names the channel (slug, title) and its subscriber rule decides what is restricted
        await Promise.all([c.var.deps.reads.invalidateChannel(current.slug, patch.slug ?? current.slug), c.var.deps.reads.invalidateVods(current.id)]);
        const row = await loadChannel(db, patch.slug ?? current.slug);
        await c.var.deps.bus.publish('channel.updated', { channelId: row.id, slug: row.slug });
        return c.json(serialize(row), 200);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'delete',
        path: '/{slug}',
        tags,
        summary: 'Delete a channel and its stream keys (owner, admin)',
        request: { params: SlugParam },
        responses: { 204: { description: 'Deleted.' }, ...problems(401, 403, 404) },
      }),
      async (c) => {
        requireRank(c, 'own');
        // recordings go with the channel: their rows by cascade, their files too
        await removeChannel(c.var.deps, c.var.channel);
        return c.body(null, 204);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'put',
        path: '/{slug}/avatar',
        tags,
        summary: 'Upload the channel avatar (PNG, JPEG, GIF or WebP as the raw body)',
        request: {
          params: SlugParam,
          body: {
            required: true,
            content: imageContent(),
          },
        },
        responses: { 200: json(ChannelSchema, 'Avatar stored.'), ...problems(400, 401, 403, 404, 413, 415) },
      }),
      async (c) => {
        const { database, store, config } = c.var.deps;
        const current = c.var.channel;
        requireRank(c, 'own');
        const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
        if (!(IMAGE_TYPES as readonly string[]).includes(type)) throw unsupportedMedia(`Avatars must be one of ${IMAGE_TYPES.join(', ')}; got "${type || 'nothing'}".`);
        // the body limit (MAX_UPLOAD_BYTES) has bounded this read; the bytes are checked, never decoded, here
        const bytes = new Uint8Array(await c.req.arrayBuffer());
        if (bytes.byteLength > config.maxUploadBytes) throw tooLarge(`Avatars may be at most ${config.maxUploadBytes} bytes.`);
        if (bytes.byteLength === 0) throw invalid('The avatar is empty.');
        const probe = probeImage(bytes, type, AVATAR_MAX_SIDE);
        if (!probe.ok) throw invalid(probe.reason);
        const key = `avatars/${current.id}-${Date.now()}.${type.split('/')[1]}`;
        await store.put(key, bytes, type);
        await database.db.update(channel).set({ avatarKey: key, avatarType: type }).where(eq(channel.id, current.id));
        await c.var.deps.reads.invalidateChannel(current.slug);
        if (current.avatarKey) await store.delete(current.avatarKey);
        return c.json(serialize(await loadChannel(database.db, current.slug)), 200);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'get',
        path: '/{slug}/avatar',
        tags,
        summary: 'The channel avatar image',
        request: { params: SlugParam },
        responses: {
          200: { description: 'The image (served only as its image type: nosniff, a sandboxing Content-Security-Policy).', content: imageContent() },
          ...problems(404),
        },
      }),
      async (c) => {
        const { database, store } = c.var.deps;
        const current = c.var.channel;
        const obj = current.avatarKey ? await store.get(current.avatarKey) : null;
        if (!obj || !current.avatarType) throw notFound(`An avatar for "${current.slug}"`);
        return c.body(obj.body, 200, {
          ...servedImageHeaders(current.avatarType, obj.size, 300),
          'Content-Disposition': `inline; filename="${current.slug}.${current.avatarType.split('/')[1]}"`,
        });
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'delete',
        path: '/{slug}/avatar',
        tags,
        summary: 'Remove the channel avatar (owner, moderator, admin)',
        request: { params: SlugParam },
        responses: { 204: { description: 'Removed.' }, ...problems(401, 403, 404) },
      }),
      async (c) => {
        const { database, store } = c.var.deps;
        const current = c.var.channel;
        requireRank(c, 'edit');
        await database.db.update(channel).set({ avatarKey: null, avatarType: null }).where(eq(channel.id, current.id));
        await c.var.deps.reads.invalidateChannel(current.slug);
        if (current.avatarKey) await store.delete(current.avatarKey);
        return c.body(null, 204);
      },
    ),
  );
