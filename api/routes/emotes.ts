// A channel's own chat emotes: the public list and images; the owner adds (or replaces) one by code with the image as
// the raw body, and deletes one. The images are checked as avatars are (api/images.ts: the bytes' format matches the
// declared type, the file is whole, its sides are bounded), within a smaller size, and a channel has a capped number.
import { createRoute } from '@hono/zod-openapi';
import { and, count, eq } from 'drizzle-orm';
import { channelEmote } from '../../shared/db/index.ts';
import { EMOTE_CODE_PATTERN, EMOTE_MAX_BYTES, EMOTE_MAX_SIDE, MAX_CHANNEL_EMOTES } from '../../shared/emotes.ts';
import { conflict, invalid, notFound, tooLarge, unsupportedMedia } from '../../shared/errors.ts';
import { requireRank, withChannel } from '../channel-context.ts';
import { channelEmotes } from '../chat/store.ts';
import { IMAGE_TYPES, probeImage, servedImageHeaders } from '../images.ts';
import { imageContent, json, problems, router, z } from '../openapi.ts';

const tags = ['chat'];
const SlugParam = z.object({ slug: z.string().max(64).openapi({ param: { name: 'slug', in: 'path' } }) });
const CodeParams = SlugParam.extend({
  code: z.string().regex(EMOTE_CODE_PATTERN, 'a letter, then 2–24 letters or digits').openapi({ param: { name: 'code', in: 'path' }, example: 'owlWave' }),
});
const EmoteSchema = z.object({ code: z.string(), url: z.string() }).openapi('Emote');
const EmoteList = z.object({ emotes: z.array(EmoteSchema), max: z.number().int() }).openapi('EmoteList');

/** Whether a request path is an emote upload (its body is an image, bounded by MAX_UPLOAD_BYTES, not JSON). */
export const isEmoteUpload = (path: string) => /^\/api\/channels\/[^/]+\/emotes\/[^/]+$/.test(path);

export const emotesApp = router()
  .openapi(
    ...withChannel(
      createRoute({
        method: 'get',
        path: '/{slug}/emotes',
        tags,
        summary: "The channel's own chat emotes (the built-in set is in the app)",
        request: { params: SlugParam },
        responses: { 200: json(EmoteList, 'The emotes, oldest first.'), ...problems(404) },
      }),
      async (c) => {
        const ch = c.var.channel;
        return c.json({ emotes: await channelEmotes(c.var.deps.database.db, ch.id, ch.slug), max: MAX_CHANNEL_EMOTES }, 200);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'put',
        path: '/{slug}/emotes/{code}',
        tags,
        summary: `Add or replace a channel emote (the owner; PNG, JPEG, GIF or WebP as the raw body, at most ${EMOTE_MAX_BYTES} bytes and ${EMOTE_MAX_SIDE} px a side; at most ${MAX_CHANNEL_EMOTES} a channel)`,
        request: { params: CodeParams, body: { required: true, content: imageContent() } },
        responses: { 201: json(EmoteSchema, 'Stored.'), ...problems(400, 401, 403, 404, 409, 413, 415) },
      }),
      async (c) => {
        const { database, store } = c.var.deps;
        const ch = c.var.channel;
        requireRank(c, 'own');
        const { code } = c.req.valid('param');
        const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
        if (!(IMAGE_TYPES as readonly string[]).includes(type)) throw unsupportedMedia(`Emotes must be one of ${IMAGE_TYPES.join(', ')}; got "${type || 'nothing'}".`);
        // the body limit (MAX_UPLOAD_BYTES) has bounded this read; the bytes are checked, never decoded, here
        const bytes = new Uint8Array(await c.req.arrayBuffer());
        if (bytes.byteLength > EMOTE_MAX_BYTES) throw tooLarge(`Emotes may be at most ${EMOTE_MAX_BYTES} bytes.`);
        if (bytes.byteLength === 0) throw invalid('The emote image is empty.');
        const probe = probeImage(bytes, type, EMOTE_MAX_SIDE);
        if (!probe.ok) throw invalid(probe.reason);
        const { db } = database;
        const [old] = await db.select({ key: channelEmote.key }).from(channelEmote).where(and(eq(channelEmote.channelId, ch.id), eq(channelEmote.code, code))).limit(1);
        if (!old) {
          const [n] = await db.select({ n: count() }).from(channelEmote).where(eq(channelEmote.channelId, ch.id));
          if ((n?.n ?? 0) >= MAX_CHANNEL_EMOTES) throw conflict(`A channel has at most ${MAX_CHANNEL_EMOTES} emotes; delete one first.`);
        }
        const key = `emotes/${ch.id}/${code}-${Date.now()}.${type.split('/')[1]}`;
        await store.put(key, bytes, type);
        const id = crypto.randomUUID();
        await db
          .insert(channelEmote)
          .values({ id, channelId: ch.id, code, key, type })
          .onConflictDoUpdate({ target: [channelEmote.channelId, channelEmote.code], set: { id, key, type, createdAt: new Date() } });
        if (old) await store.delete(old.key);
        return c.json({ code, url: `/api/channels/${ch.slug}/emotes/${code}?v=${id.slice(0, 8)}` }, 201);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'get',
        path: '/{slug}/emotes/{code}',
        tags,
        summary: 'A channel emote image',
        request: { params: CodeParams },
        responses: {
          200: { description: 'The image (served only as its image type: nosniff, a sandboxing Content-Security-Policy).', content: imageContent() },
          ...problems(404),
        },
      }),
      async (c) => {
        const { database, store } = c.var.deps;
        const ch = c.var.channel;
        const { code } = c.req.valid('param');
        const [row] = await database.db.select({ key: channelEmote.key, type: channelEmote.type }).from(channelEmote).where(and(eq(channelEmote.channelId, ch.id), eq(channelEmote.code, code))).limit(1);
        const obj = row ? await store.get(row.key) : null;
        if (!row || !obj) throw notFound(`The emote "${code}" of "${ch.slug}"`);
        return c.body(obj.body, 200, servedImageHeaders(row.type, obj.size, 86_400));
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'delete',
        path: '/{slug}/emotes/{code}',
        tags,
        summary: 'Delete a channel emote (the owner)',
        request: { params: CodeParams },
        responses: { 204: { description: 'Deleted.' }, ...problems(401, 403, 404) },
      }),
      async (c) => {
        const { database, store } = c.var.deps;
        const ch = c.var.channel;
        requireRank(c, 'own');
        const { code } = c.req.valid('param');
        const [gone] = await database.db.delete(channelEmote).where(and(eq(channelEmote.channelId, ch.id), eq(channelEmote.code, code))).returning({ key: channelEmote.key });
        if (!gone) throw notFound(`The emote "${code}" of "${ch.slug}"`);
        await store.delete(gone.key);
        return c.body(null, 204);
      },
    ),
  );
