// VoDs: past broadcasts per channel, one VoD's detail, deletion by the owner (or an admin); and /hls/…, the HLS
// files themselves, from local disk or as a redirect to a signed object-store URL.
import { createRoute } from '@hono/zod-openapi';
import { Hono, type Context } from 'hono';
import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { channel, chatMessage, liveSession, user, vod } from '../../shared/db/index.ts';
import { conflict, notFound } from '../../shared/errors.ts';
import { CONTENT_TYPES, previewKey, vodPrefix } from '../../shared/media.ts';
import { requireChannelAccess } from '../access.ts';
import { withChannel } from '../channel-context.ts';
import { requireEntitled, viewerOf } from '../entitlements.ts';
import type { AppEnv } from '../context.ts';
import { json, problems, router, z } from '../openapi.ts';

export const VodSchema = z
  .object({
    id: z.uuid(),
    channel: z.object({ id: z.uuid(), slug: z.string(), ownerId: z.string() }),
    liveSessionId: z.uuid().nullable(),
    title: z.string(),
    status: z.enum(['recording', 'ready', 'failed']).openapi({
      description: "recording: still live (watch from the start); ready: a finished VoD; failed: nothing playable was recorded (listed for the channel's owner only, with failureReason)",
    }),
    failureReason: z.string().nullable().openapi({ description: 'Why a failed recording failed (null otherwise).' }),
    startedAt: z.iso.datetime(),
    endedAt: z.iso.datetime().nullable(),
    durationSeconds: z.number().nullable(),
    sizeBytes: z.number().int(),
    codecs: z.array(z.string()),
    playlistUrl: z.string().openapi({ description: 'HLS playlist (EVENT while recording, with ENDLIST when ready)' }),
    posterUrl: z.string().nullable(),
    subscribersOnly: z.boolean().openapi({ description: "Only the channel's subscribers may play it (its HLS answers others 401/403)." }),
  })
  .openapi('Vod');

type VodRow = typeof vod.$inferSelect;
const serialize = (v: VodRow, slug: string, ownerId: string): z.infer<typeof VodSchema> => ({
  id: v.id,
  channel: { id: v.channelId, slug, ownerId },
  liveSessionId: v.liveSessionId,
  title: v.title,
  status: v.status,
  failureReason: v.failureReason,
  startedAt: v.startedAt.toISOString(),
  endedAt: v.endedAt?.toISOString() ?? null,
  durationSeconds: v.durationMs === null ? null : v.durationMs / 1000,
  sizeBytes: v.sizeBytes,
  codecs: v.codecs,
  playlistUrl: `/hls/${v.storagePrefix}index.m3u8`,
  posterUrl: v.posterKey ? `/hls/${v.posterKey}` : null,
  subscribersOnly: v.subscribersOnly,
});

const ReplayMessageSchema = z
  .object({
    id: z.uuid(),
    author: z.object({ id: z.string(), name: z.string() }),
    text: z.string(),
    sentAt: z.iso.datetime(),
    offsetMs: z.number().int().nullable().openapi({ description: 'ms since the live session started' }),
  })
  .openapi('ReplayMessage');
/** Messages a replay returns at most (a long, busy broadcast is cut at this many, oldest first). */
export const REPLAY_LIMIT = 10_000;

const tags = ['vods'];
const IdParam = z.object({ id: z.uuid('not a VoD id') });

export const channelVodsApp = router().openapi(
  ...withChannel(
    createRoute({
      method: 'get',
      path: '/{slug}/vods',
      tags,
      summary: "A channel's recordings, newest first (the one in progress included; failed ones for its owner and admins only)",
      request: { params: z.object({ slug: z.string().max(64) }) },
      responses: { 200: json(z.object({ items: z.array(VodSchema) }), 'Recordings.'), ...problems(404) },
    }),
    async (c) => {
      const { db } = c.var.deps.database;
      const ch = c.var.channel;
      // a failed recording is the streamer's to learn about (and delete), not a viewer's to stumble on
      const statuses: VodRow['status'][] = mayManage(c.var.user, ch.ownerId) ? ['recording', 'ready', 'failed'] : ['recording', 'ready'];
      const rows = await db.select().from(vod).where(and(eq(vod.channelId, ch.id), inArray(vod.status, statuses))).orderBy(desc(vod.startedAt)).limit(100);
      return c.json({ items: rows.map((r) => serialize(r, ch.slug, ch.ownerId)) }, 200);
    },
  ),
);

/** The channel's owner or an admin: who sees its failed recordings. */
const mayManage = (user: AppEnv['Variables']['user'], ownerId: string) => !!user && (user.id === ownerId || user.role === 'admin');

/** A VoD with its channel; a failed one exists only for its channel's owner and admins (404 for anyone else). */
async function loadVod(c: { var: AppEnv['Variables'] }, id: string) {
  const [row] = await c.var.deps.database.db
    .select({ vod, slug: channel.slug, ownerId: channel.ownerId })
    .from(vod)
    .innerJoin(channel, eq(channel.id, vod.channelId))
    .where(eq(vod.id, id))
    .limit(1);
  if (!row || (row.vod.status === 'failed' && !mayManage(c.var.user, row.ownerId))) throw notFound('That VoD');
  return row;
}

export const vodsApp = router()
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'One recording',
      request: { params: IdParam },
      responses: { 200: json(VodSchema, 'The VoD.'), ...problems(400, 404) },
    }),
    async (c) => {
      const row = await loadVod(c, c.req.valid('param').id);
      return c.json(serialize(row.vod, row.slug, row.ownerId), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}/chat',
      tags,
      summary: "The chat of a recording's broadcast, oldest first, for replay beside it",
      description: `Messages deleted by moderators are left out; at most ${REPLAY_LIMIT}. The player shows those sent before the moment it plays (EXT-X-PROGRAM-DATE-TIME of the playlist, or the offset from the start). The replay of a subscriber-only recording is for those who may play it (401/403 otherwise), like its playlist.`,
      request: { params: IdParam },
      responses: { 200: json(z.object({ items: z.array(ReplayMessageSchema) }), 'Chat messages.'), ...problems(400, 401, 403, 404) },
    }),
    async (c) => {
      const row = await loadVod(c, c.req.valid('param').id);
      // part of the recording: what was said beside a subscriber-only broadcast is for those who may watch it
      if (await requireVodEntitlement(c, row.vod.id)) for (const [name, value] of Object.entries(cacheHeaders('playlist', true))) c.header(name, value);
      if (!row.vod.liveSessionId) return c.json({ items: [] }, 200);
      const rows = await c.var.deps.database.db
        .select({ id: chatMessage.id, userId: chatMessage.userId, name: user.name, body: chatMessage.body, createdAt: chatMessage.createdAt, offsetMs: chatMessage.offsetMs })
        .from(chatMessage)
        .innerJoin(user, eq(user.id, chatMessage.userId))
        .where(and(eq(chatMessage.liveSessionId, row.vod.liveSessionId), isNull(chatMessage.deletedAt)))
        .orderBy(asc(chatMessage.createdAt), asc(chatMessage.id))
        .limit(REPLAY_LIMIT);
      const items = rows.map((r) => ({ id: r.id, author: { id: r.userId, name: r.name }, text: r.body, sentAt: r.createdAt.toISOString(), offsetMs: r.offsetMs }));
      return c.json({ items }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/{id}',
      tags,
      summary: 'Change a recording: its title, or whether it is for subscribers only (channel owner or admin)',
      request: {
        params: IdParam,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({ title: z.string().trim().min(1).max(120).optional(), subscribersOnly: z.boolean().optional() })
                .strict()
                .refine((v) => Object.keys(v).length > 0, 'send at least one field to change')
                .openapi('UpdateVod'),
            },
          },
        },
      },
      responses: { 200: json(VodSchema, 'Changed.'), ...problems(400, 401, 403, 404, 415) },
    }),
    async (c) => {
      const row = await loadVod(c, c.req.valid('param').id);
      requireChannelAccess(c, { ownerId: row.ownerId }, 'own');
      const [changed] = await c.var.deps.database.db.update(vod).set(c.req.valid('json')).where(eq(vod.id, row.vod.id)).returning();
      return c.json(serialize(changed!, row.slug, row.ownerId), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags,
      summary: 'Delete a recording and its files (channel owner or admin)',
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted.' }, ...problems(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const row = await loadVod(c, c.req.valid('param').id);
      requireChannelAccess(c, { ownerId: row.ownerId }, 'own');
      if (row.vod.status === 'recording') throw conflict('This broadcast is still being recorded; delete it once it has ended.');
      await c.var.deps.store.deletePrefix(row.vod.storagePrefix);
      await c.var.deps.database.db.delete(vod).where(eq(vod.id, row.vod.id));
      return c.body(null, 204);
    },
  );

/**
 * A subscriber-only recording's playlist and segments are for those entitled (the poster stays public); so is the
 * recording of a broadcast in progress on a channel whose live streams are subscriber-only (switched on mid-broadcast
 * too: the recording is the stream's DVR). Resolves to whether the file is restricted (then it may be kept by the
 * viewer's own cache only).
 */
async function requireVodEntitlement(c: Context<AppEnv>, id: string): Promise<boolean> {
  const { database } = c.var.deps;
  const [row] = await database.db
    .select({
      subscribersOnly: sql<boolean>`${vod.subscribersOnly} or (${vod.status} = 'recording' and ${channel.subscribersOnlyLive})`,
      channelId: channel.id,
      ownerId: channel.ownerId,
      slug: channel.slug,
    })
    .from(vod)
    .innerJoin(channel, eq(channel.id, vod.channelId))
    .where(eq(vod.id, id))
    .limit(1);
  if (!row?.subscribersOnly) return false;
  await requireEntitled(database.db, await viewerOf(c.var.deps, c.req.raw.headers), { id: row.channelId, ownerId: row.ownerId, slug: row.slug }, 'This recording');
  return true;
}

/**
 * How a file may be cached. What only some may see is `private` (a shared cache or CDN keeps none of it, or it would
 * serve a subscriber's copy to anyone) and varies by the session cookie; public files keep long public caching
 * (segments and posters never change; playlists grow while recording, so they revalidate).
 */
function cacheHeaders(kind: 'playlist' | 'immutable' | 'preview' | 'redirect', restricted: boolean): Record<string, string> {
  const age = { playlist: 'no-cache', immutable: 'max-age=31536000, immutable', preview: 'max-age=10', redirect: 'max-age=600' }[kind];
  // a redirect to a signed object-store URL is a credential for that file: never kept for anyone else
  if (restricted) return { 'Cache-Control': kind === 'redirect' ? 'private, no-store' : `private, ${age}`, Vary: 'Cookie' };
  return { 'Cache-Control': kind === 'playlist' ? age : `public, ${age}` };
}

/** HLS files of recordings: playlists revalidate (they grow while recording), segments and posters never change. */
export const hlsApp = new Hono<AppEnv>()
  // a live channel's preview image, refreshed by the recorder every few seconds
  .get('/hls/live/:session/preview.jpg', async (c) => {
    const session = c.req.param('session');
    if (!/^[0-9a-f-]{36}$/.test(session)) throw notFound('That preview');
    // a frame of a subscriber-only stream is subscriber-only too (the card falls back to the channel's avatar)
    const { database } = c.var.deps;
    const [ch] = await database.db
      .select({ id: channel.id, ownerId: channel.ownerId, slug: channel.slug, only: channel.subscribersOnlyLive })
      .from(liveSession)
      .innerJoin(channel, eq(channel.id, liveSession.channelId))
      .where(eq(liveSession.id, session))
      .limit(1);
    if (ch?.only) await requireEntitled(database.db, await viewerOf(c.var.deps, c.req.raw.headers), ch, 'This live stream');
    const obj = await c.var.deps.store.get(previewKey(session));
    if (!obj) throw notFound('That preview');
    return c.body(obj.body, 200, { 'Content-Type': 'image/jpeg', ...cacheHeaders('preview', !!ch?.only), 'Content-Length': String(obj.size) });
  })
  .get('/hls/vod/:id/:file', async (c) => {
    const { id, file } = c.req.param();
    if (!/^[0-9a-f-]{36}$/.test(id) || !/^(index\.m3u8|seg-\d{5}\.ts|poster\.jpg)$/.test(file)) throw notFound('That file');
    const key = `${vodPrefix(id)}${file}`;
    const restricted = file.endsWith('.jpg') ? false : await requireVodEntitlement(c, id);
    const type = CONTENT_TYPES[file.split('.').pop()!]!;
    const store = c.var.deps.store;
    if (store.kind === 's3' && !file.endsWith('.m3u8')) {
      // segments straight from the object store; the playlist stays here so its relative segment URIs resolve to us
      const url = await store.signedUrl(key, 3600);
      if (url) {
        for (const [name, value] of Object.entries(cacheHeaders('redirect', restricted))) c.header(name, value);
        return c.redirect(url, 302);
      }
    }
    const obj = await store.get(key);
    if (!obj) throw notFound('That file');
    const headers = { 'Content-Type': type, ...cacheHeaders(file.endsWith('.m3u8') ? 'playlist' : 'immutable', restricted), 'Access-Control-Allow-Origin': '*' };
    return c.body(obj.body, 200, { ...headers, 'Content-Length': String(obj.size) });
  });
