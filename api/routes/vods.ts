// VoDs: past broadcasts per channel, one VoD's detail, deletion by the owner (or an admin); and /hls/…, the HLS
// files themselves (GET and HEAD, byte ranges), from local disk or the object store, or as a redirect to a signed
// object-store URL. Subscriber-only files open to a session of an entitled viewer or to a signed media URL
// (shared/media-token.ts), which is checked without the database, so an edge (edge/hls-edge.ts) can check it too.
import { createRoute } from '@hono/zod-openapi';
import { Hono, type Context } from 'hono';
import { and, arrayOverlaps, asc, desc, eq, gt, inArray, isNull, min, ne, or, sql, type SQL } from 'drizzle-orm';
import { channel, chatMessage, liveSession, user, vod, watchPosition } from '../../shared/db/index.ts';
import { conflict, forbidden, invalid, notFound, rangeNotSatisfiable, tooLarge, unsupportedMedia } from '../../shared/errors.ts';
import { sha1Hex } from '../../shared/host/hash.ts';
import { CONTENT_TYPES, previewKey, vodPrefix } from '../../shared/media.ts';
import { etagMatches, etagOf, mediaCacheControl, parseRange, playlistKind, rangeResponse, rewritePlaylist, type ByteRange, type MediaAudience } from '../../shared/media-http.ts';
import { deriveMediaKey, importMediaKeys, signMediaToken, verifyMediaToken, type MediaKey } from '../../shared/media-token.ts';
import { AVATAR_MAX_SIDE, CategoryName, INVISIBLE_MESSAGE, isVisibleLine, isVisibleText, TagList } from '../../shared/rules.ts';
import { chapterFault, LANGUAGE_CODES, RELATED_MAX, VISIBILITIES, VOD_LIMITS, VOD_SOURCES, type Language } from '../../shared/vod-catalog.ts';
import { requireChannelAccess, requireUser } from '../access.ts';
import { entitled, requireEntitled, viewerOf, type Viewer } from '../entitlements.ts';
import { IMAGE_TYPES, probeImage, servedImageHeaders } from '../images.ts';
import { VIEW_DEDUPE_SECONDS } from '../limits.ts';
import { listedVods, managesVod, vodAccess } from '../vod-visibility.ts';
import type { AppEnv, Deps } from '../context.ts';
import { removeUpload } from '../uploads.ts';
import { imageContent, instant, json, problems, router, z } from '../openapi.ts';
import { conditional, notModified, readKeys } from '../read-cache.ts';
import { cachedChannel } from './channels.ts';

const ChapterSchema = z
  .object({
    startSeconds: z.number().min(0).max(1e7).openapi({ description: 'From the start of the video, in seconds' }),
    title: z.string().trim().min(1, 'a chapter needs a title').max(VOD_LIMITS.chapterTitle).refine(isVisibleLine, INVISIBLE_MESSAGE),
  })
  .strict()
  .openapi('Chapter');
import { masterPlaylist, POSTER_FRACTIONS, RENDITION_NAMES, VOD_IMAGES } from '../../shared/vod-ladder.ts';

export const VodSchema = z
  .object({
    id: z.uuid(),
    channel: z.object({ id: z.uuid(), slug: z.string(), title: z.string(), ownerId: z.string() }),
    liveSessionId: z.uuid().nullable(),
    title: z.string(),
    status: z.enum(['recording', 'processing', 'ready', 'failed']).openapi({
      description: "recording: still live (watch from the start); processing: an accepted upload not transcoded yet (listed for the channel's owner only); ready: a finished VoD; failed: nothing playable was recorded (listed for the channel's owner only, with failureReason)",
    }),
    failureReason: z.string().nullable().openapi({ description: 'Why a failed recording failed (null otherwise).' }),
    source: z.enum(VOD_SOURCES).openapi({ description: 'A recorded broadcast or an uploaded video' }),
    startedAt: z.iso.datetime(),
    endedAt: z.iso.datetime().nullable(),
    durationSeconds: z.number().nullable(),
    sizeBytes: z.number().int(),
    codecs: z.array(z.string()),
    playlistUrl: z.string().openapi({ description: 'HLS playlist (EVENT while recording, with ENDLIST when ready); at MEDIA_PUBLIC_URL when set' }),
    signedPlaylistUrl: z.string().nullable().openapi({
      description:
        'For a viewer entitled to a subscriber-only recording: its playlist with a token (in it and in each segment URI) that plays without the session cookie, through a CDN too, until the token expires (a few hours). Null otherwise.',
    }),
    posterUrl: z.string().nullable(),
    description: z.string(),
    category: z.string(),
    tags: z.array(z.string()),
    language: z.string().openapi({ description: 'A code of shared/vod-catalog.ts LANGUAGES, or empty' }),
    visibility: z.enum(VISIBILITIES).openapi({
      description: 'public: listed, for anyone; unlisted: for whoever has the link, never listed; private: the owner and admins only; subscribers: listed, played by subscribers',
    }),
    publishAt: z.iso.datetime().nullable().openapi({ description: 'A scheduled premiere: hidden from all but its owner and admins until then' }),
    chapters: z.array(ChapterSchema),
    viewCount: z.number().int(),
    subscribersOnly: z.boolean().openapi({ description: "visibility is subscribers: only the channel's subscribers may play it (its HLS answers others 401/403)." }),
    renditions: z
      .array(
        z.object({
          name: z.enum(RENDITION_NAMES),
          width: z.number().int(),
          height: z.number().int(),
          bandwidth: z.number().int(),
          codecs: z.string(),
          status: z.enum(['queued', 'running', 'ready', 'failed']),
          progress: z.number().min(0).max(1),
        }),
      )
      .openapi({ description: 'The adaptive ladder, lowest first ([] until the transcoder probed the source); live updates over Socket.IO (`vod:watch` → `vod:progress`).' }),
    masterPlaylistUrl: z.string().nullable().openapi({ description: 'The adaptive master playlist once a rendition is ready (null before: play playlistUrl); carries a token where signedPlaylistUrl does.' }),
    thumbnails: z.object({ small: z.string(), large: z.string() }).nullable().openapi({ description: '320 and up to 1280 px wide JPEGs (null until made)' }),
    storyboard: z.object({ imageUrl: z.string(), vttUrl: z.string() }).nullable().openapi({ description: 'Seek-bar previews: a sprite and its WebVTT (cues `storyboard.jpg#xywh=x,y,w,h`)' }),
    posterCandidates: z.array(z.string()).openapi({ description: 'Frames at 20/40/60/80 % the owner may choose the poster from ([] until made)' }),
  })
  .openapi('Vod');

type VodRow = typeof vod.$inferSelect;
/** The channel of VoDs, as much of it as their JSON and their entitlement need. */
export type VodChannel = { id: string; slug: string; title: string; ownerId: string; subscribersOnlyLive: boolean };
/** The columns of VodChannel, for a query joining channel. */
export const vodChannelColumns = { id: channel.id, slug: channel.slug, title: channel.title, ownerId: channel.ownerId, subscribersOnlyLive: channel.subscribersOnlyLive };

/** Subscriber-only: the VoD itself, or the recording in progress of a channel whose live streams are (its DVR). */
const restrictedVod = (v: VodRow, ch: VodChannel) => vodAccess(v, ch, null) === 'restricted';

/** VoDs (each with its channel) as JSON for the caller: a subscriber-only one they may watch comes with a signed playlist URL. */
export async function vodsJson(c: { var: AppEnv['Variables'] }, rows: { vod: VodRow; channel: VodChannel }[]) {
  const { deps, user } = c.var;
  const mayWatch = new Map<string, Promise<boolean>>();
  const entitledTo = (ch: VodChannel) => {
    let p = mayWatch.get(ch.id);
    if (!p) mayWatch.set(ch.id, (p = entitled(deps.database.db, user, ch)));
    return p;
  };
  return Promise.all(
    rows.map(async ({ vod: v, channel: ch }) => {
      const signed = user && restrictedVod(v, ch) && (await entitledTo(ch)) ? `${mediaUrl(deps, `${v.storagePrefix}index.m3u8`)}?token=${await signVod(deps, v.storagePrefix, user.id)}` : null;
      return serialize(v, ch, (key) => mediaUrl(deps, key), signed);
    }),
  );
}
/** VoDs of one channel as JSON for the caller (vodsJson). */
const vodJson = (c: { var: AppEnv['Variables'] }, rows: VodRow[], ch: VodChannel) => vodsJson(c, rows.map((v) => ({ vod: v, channel: ch })));

/**
 * Where the poster is fetched from: poster.jpg (the recorder's or the transcoder's) with the VoD's files; any other
 * key (a chosen frame, an uploaded image) through GET /api/vods/{id}/poster, named by its key so a change shows.
 */
function posterUrlOf(v: VodRow, url: (key: string) => string): string | null {
  if (!v.posterKey) return null;
  if (v.posterKey === `${v.storagePrefix}poster.jpg`) return url(v.posterKey);
  return `/api/vods/${v.id}/poster?v=${sha1Hex(v.posterKey).slice(0, 10)}`;
}

const serialize = (v: VodRow, ch: VodChannel, url: (key: string) => string, signedPlaylistUrl: string | null): z.infer<typeof VodSchema> => {
  const token = signedPlaylistUrl ? signedPlaylistUrl.slice(signedPlaylistUrl.indexOf('?')) : '';
  const images = v.renditions.some((r) => r.status === 'ready');
  return {
  id: v.id,
  channel: { id: v.channelId, slug: ch.slug, title: ch.title, ownerId: ch.ownerId },
  liveSessionId: v.liveSessionId,
  title: v.title,
  status: v.status,
  failureReason: v.failureReason,
  source: v.source,
  startedAt: v.startedAt.toISOString(),
  endedAt: v.endedAt?.toISOString() ?? null,
  durationSeconds: v.durationMs === null ? null : v.durationMs / 1000,
  sizeBytes: v.sizeBytes,
  codecs: v.codecs,
  playlistUrl: url(`${v.storagePrefix}index.m3u8`),
  signedPlaylistUrl,
  posterUrl: posterUrlOf(v, url),
  description: v.description,
  category: v.category,
  tags: v.tags,
  language: v.language,
  visibility: v.visibility,
  publishAt: v.publishAt?.toISOString() ?? null,
  chapters: v.chapters,
  viewCount: v.viewCount,
  subscribersOnly: v.visibility === 'subscribers',
  renditions: v.renditions.map((r) => ({ name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth, codecs: r.codecs, status: r.status, progress: r.progress })),
  masterPlaylistUrl: masterPlaylist(v.renditions) ? `${url(`${v.storagePrefix}master.m3u8`)}${token}` : null,
  // the images come with the first rendition (transcoder/Transcoder.ts makes them right after it)
  thumbnails: images && v.storyboard ? { small: url(`${v.storagePrefix}${VOD_IMAGES.thumbSmall}`), large: url(`${v.storagePrefix}${VOD_IMAGES.thumbLarge}`) } : null,
  storyboard: v.storyboard ? { imageUrl: `${url(`${v.storagePrefix}${VOD_IMAGES.storyboard}`)}${token}`, vttUrl: `${url(`${v.storagePrefix}${VOD_IMAGES.storyboardVtt}`)}${token}` } : null,
  posterCandidates: images && v.storyboard ? POSTER_FRACTIONS.map((_, i) => url(`${v.storagePrefix}${VOD_IMAGES.frame(i + 1)}`)) : [],
  };
};

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
  createRoute({
    method: 'get',
    path: '/{slug}/vods',
    tags,
    summary: "A channel's videos, newest first: its recordings (the one in progress included) and uploads",
    description:
      'Listed videos only (public and subscribers, published), except for the channel\'s owner and admins, who see all of them: unlisted, private, scheduled and failed ones too. With an ETag: send it back as If-None-Match for a 304 while nothing changed.',
    request: {
      params: z.object({ slug: z.string().max(64) }),
      query: z.object({ source: z.enum(VOD_SOURCES).optional().openapi({ description: 'Only uploads, or only past broadcasts' }) }),
    },
    responses: { 200: json(z.object({ items: z.array(VodSchema) }), 'Videos.'), ...notModified, ...problems(400, 404) },
  }),
  async (c) => {
    const { source } = c.req.valid('query');
    const found = await cachedChannel(c, c.req.valid('param').slug);
    const ch: VodChannel = { id: found.id, slug: found.slug, title: found.title, ownerId: found.owner.id, subscribersOnlyLive: found.subscribersOnlyLive };
    const { db } = c.var.deps.database;
    const load = (all: boolean, now = new Date()) => {
      const where = [eq(vod.channelId, ch.id)];
      if (source) where.push(eq(vod.source, source));
      // a failed recording is the streamer's to learn about (and delete), not a viewer's to stumble on
      if (!all) where.push(inArray(vod.status, ['recording', 'ready']), listedVods(now));
      return db.select().from(vod).where(and(...where)).orderBy(desc(vod.startedAt)).limit(100);
    };
    const answer = async (items: z.infer<typeof VodSchema>[]) => conditional(c, JSON.stringify({ items }), false) as never;
    if (managesVod(c.var.user, ch.ownerId)) return answer(await vodJson(c, await load(true), ch));
    // the list as anyone sees it, from the read cache: kept until a write changes it, or the next premiere is due
    const listed = await c.var.deps.reads.get(readKeys.vods(ch.id, source), async () => {
      const now = new Date();
      const [rows, [next]] = await Promise.all([
        load(false, now),
        db.select({ at: min(vod.publishAt) }).from(vod).where(and(eq(vod.channelId, ch.id), gt(vod.publishAt, now))),
      ]);
      const items = await vodJson({ var: { ...c.var, user: null } }, rows, ch);
      // a subscriber-only one comes with a signed URL for those entitled: their answer is their own
      return { value: { items, personal: rows.some((v) => restrictedVod(v, ch)) }, ttlMs: next?.at ? next.at.getTime() - now.getTime() : undefined };
    });
    if (c.var.user && listed.personal) return answer(await vodJson(c, await load(false), ch));
    return answer(listed.items);
  },
);

/** A VoD with its channel, or undefined. */
async function findVod(deps: Deps, id: string) {
  const [row] = await deps.database.db.select({ vod, channel: vodChannelColumns }).from(vod).innerJoin(channel, eq(channel.id, vod.channelId)).where(eq(vod.id, id)).limit(1);
  return row;
}

/** A VoD with its channel, unless it is hidden from the caller (private, scheduled or failed: 404, api/vod-visibility.ts). */
async function loadVod(c: { var: AppEnv['Variables'] }, id: string) {
  const row = await findVod(c.var.deps, id);
  if (!row || vodAccess(row.vod, row.channel, c.var.user) === 'hidden') throw notFound('That VoD');
  return row;
}

const UpdateVod = z
  .object({
    title: z.string().trim().min(1, 'title must not be empty').max(VOD_LIMITS.title).refine(isVisibleLine, INVISIBLE_MESSAGE).optional(),
    description: z.string().max(VOD_LIMITS.description, `at most ${VOD_LIMITS.description} characters`).refine(isVisibleText, INVISIBLE_MESSAGE).optional(),
    // the same rules as a channel's category and tags
    category: CategoryName.optional(),
    tags: TagList.optional(),
    language: z
      .union([z.enum(LANGUAGE_CODES as [Language, ...Language[]]), z.literal('')], { error: `a language code of: ${LANGUAGE_CODES.join(', ')} (or empty)` })
      .optional(),
    visibility: z.enum(VISIBILITIES).optional(),
    publishAt: z.union([instant({ description: 'A scheduled premiere, a date-time' }), z.null()]).optional().openapi({ description: 'A scheduled premiere (null: published now)' }),
    chapters: z.array(ChapterSchema).max(VOD_LIMITS.chapters, `at most ${VOD_LIMITS.chapters} chapters`).optional(),
    posterFrame: z.number().int().min(1).max(4).optional().openapi({ description: 'Use generated frame N (frame-N.jpg) as the poster' }),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'send at least one field to change')
  .openapi('UpdateVod');

/** The poster image's content type, from its key's extension. */
const posterType = (key: string) => CONTENT_TYPES[key.split('.').pop()!] ?? `image/${key.split('.').pop()}`;

const PositionSchema = z.object({ positionSeconds: z.number().min(0).max(1e7) }).strict().openapi('WatchPosition');

export const vodsApp = router()
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'One video',
      description: 'Unlisted ones open to whoever has the link; private, scheduled (until their publish time) and failed ones only to the channel\'s owner and admins (404 for anyone else).',
      request: { params: IdParam },
      responses: { 200: json(VodSchema, 'The VoD.'), ...problems(400, 404) },
    }),
    async (c) => {
      const row = await loadVod(c, c.req.valid('param').id);
      const [json] = await vodJson(c, [row.vod], row.channel);
      return c.json(json!, 200);
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
      if (await requireVodEntitlement(c, row)) {
        c.header('Cache-Control', 'private, no-cache');
        c.header('Vary', 'Cookie');
      }
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
      summary: "Edit a video's details, visibility, premiere time, chapters or poster frame (channel owner or admin)",
      description: `Chapters: sorted, the first at 0, at most ${VOD_LIMITS.chapters}, none past the end when the duration is known. posterFrame N needs the generated frame-N.jpg (409 until the transcoder wrote it).`,
      request: { params: IdParam, body: { required: true, content: { 'application/json': { schema: UpdateVod } } } },
      responses: { 200: json(VodSchema, 'Changed.'), ...problems(400, 401, 403, 404, 409, 415) },
    }),
    async (c) => {
      const row = await loadVod(c, c.req.valid('param').id);
      requireChannelAccess(c, { ownerId: row.channel.ownerId }, 'own');
      const { posterFrame, publishAt, chapters, ...fields } = c.req.valid('json');
      const set: Partial<typeof vod.$inferInsert> = { ...fields };
      if (publishAt !== undefined) set.publishAt = publishAt;
      if (chapters !== undefined) {
        const fault = chapterFault(chapters, row.vod.durationMs === null ? null : row.vod.durationMs / 1000);
        if (fault) throw invalid(fault);
        set.chapters = chapters;
      }
      if (posterFrame !== undefined) {
        const key = `${row.vod.storagePrefix}frame-${posterFrame}.jpg`;
        if ((await c.var.deps.store.size(key)) === null) throw conflict(`Frame ${posterFrame} has not been generated (yet) for this video.`);
        set.posterKey = key;
      }
      const [changed] = await c.var.deps.database.db.update(vod).set(set).where(eq(vod.id, row.vod.id)).returning();
      await c.var.deps.reads.invalidateVods(row.vod.channelId);
      const [json] = await vodJson(c, [changed!], row.channel);
      return c.json(json!, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{id}/poster',
      tags,
      summary: 'Upload a poster image for a video (PNG, JPEG, GIF or WebP as the raw body; channel owner or admin)',
      request: { params: IdParam, body: { required: true, content: imageContent() } },
      responses: { 200: json(VodSchema, 'Poster stored.'), ...problems(400, 401, 403, 404, 413, 415) },
    }),
    async (c) => {
      const row = await loadVod(c, c.req.valid('param').id);
      requireChannelAccess(c, { ownerId: row.channel.ownerId }, 'own');
      const { store, config, database } = c.var.deps;
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (!(IMAGE_TYPES as readonly string[]).includes(type)) throw unsupportedMedia(`Posters must be one of ${IMAGE_TYPES.join(', ')}; got "${type || 'nothing'}".`);
      // the body limit (MAX_UPLOAD_BYTES) has bounded this read; the bytes are checked, never decoded, here
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      if (bytes.byteLength > config.maxUploadBytes) throw tooLarge(`Posters may be at most ${config.maxUploadBytes} bytes.`);
      if (bytes.byteLength === 0) throw invalid('The poster is empty.');
      const probe = probeImage(bytes, type, AVATAR_MAX_SIDE);
      if (!probe.ok) throw invalid(probe.reason);
      // under the VoD's prefix (deleted with it), a new name each time so the URL (and caches) change with it
      const key = `${row.vod.storagePrefix}poster-upload-${Date.now()}.${type.split('/')[1]}`;
      await store.put(key, bytes, type);
      const [changed] = await database.db.update(vod).set({ posterKey: key }).where(eq(vod.id, row.vod.id)).returning();
      await c.var.deps.reads.invalidateVods(row.vod.channelId);
      const old = row.vod.posterKey;
      if (old && old !== key && old.startsWith(`${row.vod.storagePrefix}poster-upload-`)) await store.delete(old);
      const [json] = await vodJson(c, [changed!], row.channel);
      return c.json(json!, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}/poster',
      tags,
      summary: "A video's chosen poster image (a generated frame or an uploaded one)",
      request: { params: IdParam },
      responses: { 200: { description: 'The image.', content: imageContent() }, ...problems(400, 404) },
    }),
    async (c) => {
      const row = await loadVod(c, c.req.valid('param').id);
      const obj = row.vod.posterKey ? await c.var.deps.store.get(row.vod.posterKey) : null;
      if (!obj) throw notFound('A poster for this video');
      const type = posterType(row.vod.posterKey!);
      // a private or scheduled video's poster is as hidden as the video: kept by the viewer's own cache only
      const hidden = vodAccess(row.vod, row.channel, null) === 'hidden';
      return c.body(obj.body, 200, { ...servedImageHeaders(type, obj.size, 300), ...(hidden ? { 'Cache-Control': 'private, max-age=300' } : {}) });
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}/related',
      tags,
      summary: 'Videos related to this one: of the same channel, category or tags (listed, ready ones only)',
      request: { params: IdParam },
      responses: { 200: json(z.object({ items: z.array(VodSchema) }), 'Related videos, the closest first.'), ...problems(400, 404) },
    }),
    async (c) => {
      const row = await loadVod(c, c.req.valid('param').id);
      const v = row.vod;
      const near: SQL[] = [eq(vod.channelId, v.channelId)];
      if (v.category) near.push(sql`lower(${vod.category}) = ${v.category.toLowerCase()}`);
      if (v.tags.length) near.push(arrayOverlaps(vod.tags, v.tags));
      // closeness: the same channel, then each shared tag, then the same category; newest among equals
      const score = sql<number>`(case when ${vod.channelId} = ${v.channelId} then 100 else 0 end) + 2 * cardinality(array(select unnest(${vod.tags}) intersect select unnest(${sql.param(v.tags)}::text[])))${v.category ? sql` + (case when lower(${vod.category}) = ${v.category.toLowerCase()} then 1 else 0 end)` : sql``}`;
      const rows = await c.var.deps.database.db
        .select({ vod, channel: vodChannelColumns })
        .from(vod)
        .innerJoin(channel, eq(channel.id, vod.channelId))
        .where(and(ne(vod.id, v.id), eq(vod.status, 'ready'), listedVods(), or(...near)))
        .orderBy(desc(score), desc(vod.startedAt), desc(vod.id))
        .limit(RELATED_MAX);
      return c.json({ items: await vodsJson(c, rows) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'put',
      path: '/{id}/position',
      tags,
      summary: 'Remember where the signed-in viewer stopped watching (for resuming)',
      request: { params: IdParam, body: { required: true, content: { 'application/json': { schema: PositionSchema } } } },
      responses: { 204: { description: 'Kept.' }, ...problems(400, 401, 404, 415) },
    }),
    async (c) => {
      const u = requireUser(c);
      const row = await loadVod(c, c.req.valid('param').id);
      const { positionSeconds } = c.req.valid('json');
      await c.var.deps.database.db
        .insert(watchPosition)
        .values({ userId: u.id, vodId: row.vod.id, positionSeconds })
        .onConflictDoUpdate({ target: [watchPosition.userId, watchPosition.vodId], set: { positionSeconds, updatedAt: new Date() } });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}/position',
      tags,
      summary: 'Where the signed-in viewer stopped watching (null: never started)',
      request: { params: IdParam },
      responses: { 200: json(z.object({ positionSeconds: z.number() }).nullable(), 'The position, or null.'), ...problems(400, 401, 404) },
    }),
    async (c) => {
      const u = requireUser(c);
      const row = await loadVod(c, c.req.valid('param').id);
      const [found] = await c.var.deps.database.db
        .select({ positionSeconds: watchPosition.positionSeconds })
        .from(watchPosition)
        .where(and(eq(watchPosition.userId, u.id), eq(watchPosition.vodId, row.vod.id)));
      c.header('Cache-Control', 'private, no-store');
      return c.json(found ?? null, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{id}/view',
      tags,
      summary: 'Count a view (once per viewer — signed-in user, else address — per video every few hours)',
      description: `A viewer's views of one video within ${VIEW_DEDUPE_SECONDS / 3600} h count once; one address counts a few hundred an hour at most (429 past that).`,
      request: { params: IdParam },
      responses: { 200: json(z.object({ counted: z.boolean(), viewCount: z.number().int() }).openapi('ViewCount'), 'Whether this view counted, and the total.'), ...problems(400, 404, 429) },
    }),
    async (c) => {
      const row = await loadVod(c, c.req.valid('param').id);
      const { limits, database } = c.var.deps;
      await limits.take('views from this address', [limits.viewsPerAddress, c.var.address]);
      const viewer = c.var.user ? `u:${c.var.user.id}` : `a:${c.var.address}`;
      const fresh = (await limits.viewsSeen.take(`${row.vod.id}:${viewer}`)).ok;
      if (!fresh) return c.json({ counted: false, viewCount: row.vod.viewCount }, 200);
      const [after] = await database.db
        .update(vod)
        .set({ viewCount: sql`${vod.viewCount} + 1` })
        .where(eq(vod.id, row.vod.id))
        .returning({ viewCount: vod.viewCount });
      await c.var.deps.reads.invalidateVods(row.vod.channelId); // the lists show the count
      return c.json({ counted: true, viewCount: after?.viewCount ?? row.vod.viewCount + 1 }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags,
      summary: 'Delete a video and every file of it: its HLS, images, and an upload\'s source (channel owner or admin)',
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted.' }, ...problems(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const row = await loadVod(c, c.req.valid('param').id);
      requireChannelAccess(c, { ownerId: row.channel.ownerId }, 'own');
      if (row.vod.status === 'recording') throw conflict('This broadcast is still being recorded; delete it once it has ended.');
      await c.var.deps.store.deletePrefix(row.vod.storagePrefix);
      // an uploaded video's source file goes too (and its quota with it)
      if (row.vod.uploadId) await removeUpload(c.var.deps, row.vod.uploadId);
      // its search document goes with the row (the search_vod trigger), its watch positions by cascade
      await c.var.deps.database.db.delete(vod).where(eq(vod.id, row.vod.id));
      await c.var.deps.reads.invalidateVods(row.vod.channelId);
      return c.body(null, 204);
    },
  );

/**
 * A subscriber-only recording's playlist and segments are for those entitled (the poster stays public); so is the
 * recording of a broadcast in progress on a channel whose live streams are subscriber-only (switched on mid-broadcast
 * too: the recording is the stream's DVR). Resolves to the entitled viewer when the file is restricted (then it may be
 * kept by the viewer's own cache only), to null when it is public.
 */
async function requireVodEntitlement(c: Context<AppEnv>, row: NonNullable<Awaited<ReturnType<typeof findVod>>>): Promise<NonNullable<Viewer> | null> {
  const access = vodAccess(row.vod, row.channel, null);
  if (access === 'open') return null;
  const viewer = await viewerOf(c.var.deps, c.req.raw.headers);
  // private, scheduled or failed: as if it did not exist, for anyone but its owner and admins
  if (vodAccess(row.vod, row.channel, viewer) === 'hidden') throw notFound('That file');
  if (access === 'restricted') await requireEntitled(c.var.deps.database.db, viewer, row.channel, 'This recording');
  return viewer!;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The keys of signed media URLs: MEDIA_SIGNING_KEYS, or one derived from the session secret; imported once per API. */
const keysOf = new WeakMap<Deps, Promise<MediaKey[]>>();
function mediaKeys(deps: Deps): Promise<MediaKey[]> {
  let keys = keysOf.get(deps);
  if (!keys) keysOf.set(deps, (keys = (async () => importMediaKeys(deps.config.media.signingKeys ?? [await deriveMediaKey(deps.auth.options.secret!)]))()));
  return keys;
}

/**
 * A token opening a VoD's files (everything under its prefix) to `viewerId`. It lives MEDIA_TOKEN_TTL_SECONDS (4 h by
 * default: a long VoD watched from the page that got it), rounded up to the hour, so the viewer's URLs repeat for an
 * hour: their CDN cache keys and their playlist's ETag stay the same across reloads. A leaked link stops there.
 */
async function signVod(deps: Deps, prefix: string, viewerId: string): Promise<string> {
  const exp = Math.ceil((nowSeconds() + deps.config.media.tokenTtlSeconds) / 3600) * 3600;
  return signMediaToken({ prefix, exp, viewer: viewerId }, (await mediaKeys(deps))[0]!);
}

/** Where browsers fetch a stored object from: MEDIA_PUBLIC_URL (a CDN) when set, Glint's /hls otherwise. */
const mediaUrl = (deps: Deps, key: string) => `${deps.config.media.publicUrl ?? '/hls'}/${key}`;

/**
 * Answers GET or HEAD for a `size`-byte file, whole or the one byte range asked for (206; 416 when past its end; a
 * malformed or multi-range header gets the whole file). `open` gives the body of a range (or the whole) — not
 * called for HEAD.
 */
async function sendRanged(c: Context<AppEnv>, size: number, open: (range?: ByteRange) => Promise<ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer>>, headers: Record<string, string>) {
  const range = parseRange(c.req.header('range'), size);
  c.header('Access-Control-Allow-Origin', '*');
  if (range === 'unsatisfiable') {
    // (without the file's cache headers: a cache must not keep this answer to one client's Range for a year)
    c.header('Content-Range', `bytes */${size}`);
    throw rangeNotSatisfiable(`That range is outside the file's ${size} bytes.`);
  }
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  const answer = rangeResponse(range, size);
  if (c.req.method === 'HEAD') return c.body(null, answer.status, answer.headers);
  return c.body(await open(range), answer.status, answer.headers);
}

/** A stored file, whole or a range of it. */
async function sendObject(c: Context<AppEnv>, key: string, headers: Record<string, string>) {
  const { store } = c.var.deps;
  const size = await store.size(key);
  if (size === null) throw notFound('That file');
  return sendRanged(c, size, async (range) => (await store.get(key, range))?.body ?? new Uint8Array(), headers);
}

/**
 * A VoD's playlist, its segment URIs at MEDIA_PUBLIC_URL when set and carrying `token` when given. It is read whole
 * (the recorder writes a line or two per 2 s segment) for its ETag: an ended VoD's playlist revalidates with a 304.
 */
async function sendPlaylist(c: Context<AppEnv>, prefix: string, file: string, audience: MediaAudience, token: string | undefined) {
  const obj = await c.var.deps.store.get(`${prefix}${file}`);
  if (!obj) throw notFound('That file');
  const text = await new Response(obj.body).text();
  // a rendition's playlist names its files relatively to its own folder
  const dir = file.includes('/') ? `${prefix}${file.slice(0, file.lastIndexOf('/') + 1)}` : prefix;
  const base = c.var.deps.config.media.publicUrl ? mediaUrl(c.var.deps, dir) : '';
  const bytes = new TextEncoder().encode(rewritePlaylist(text, { base, token }));
  const headers = { 'Content-Type': CONTENT_TYPES.m3u8!, ...mediaCacheControl(playlistKind(text), audience, nowSeconds()), ETag: await etagOf(bytes) };
  if (etagMatches(c.req.header('if-none-match'), headers.ETag)) {
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    return c.body(null, 304);
  }
  return sendRanged(c, bytes.length, async (r) => (r ? bytes.slice(r.start, r.end + 1) : bytes), headers);
}

/** A signed-in viewer other than the one a token was issued to: refused, so a link shared from someone's account is
 * not quietly another's. Only a request with a cookie is looked up (an edge or a bare link has none). */
async function refuseOtherViewer(c: Context<AppEnv>, viewerId: string) {
  if (!c.req.header('cookie')) return;
  const viewer = await viewerOf(c.var.deps, c.req.raw.headers);
  if (viewer && viewer.id !== viewerId) throw forbidden('This media link was issued to another viewer; reload the page for a link of your own.');
}

/**
 * The files under a VoD's prefix that are served, and nothing else: the recording (index.m3u8, seg-NNNNN.ts), the
 * ladder (master.m3u8; per rendition index.m3u8, init.mp4, seg-NNNNN.m4s) and the images.
 */
const VOD_FILE =
  /^(index\.m3u8|seg-\d{5}\.ts|poster\.jpg|master\.m3u8|(1080p|720p|480p|360p|240p|audio)\/(index\.m3u8|init\.mp4|seg-\d{5}\.m4s)|thumb-(small|large)\.jpg|frame-[1-4]\.jpg|storyboard\.(jpg|vtt))$/;

/** HLS files of recordings, and live preview frames. How each may be cached: shared/media-http.ts. */
export const hlsApp = new Hono<AppEnv>()
  // a live channel's preview image, refreshed by the recorder every few seconds
  .get('/hls/live/:session/preview.jpg', async (c) => {
    const session = c.req.param('session');
    if (!/^[0-9a-f-]{36}$/.test(session)) throw notFound('That preview');
    // a frame of a subscriber-only stream is subscriber-only too (the card falls back to the channel's avatar)
    const { database } = c.var.deps;
    const [ch] = await database.db
      .select({ id: channel.id, ownerId: channel.ownerId, slug: channel.slug, only: channel.subscribersOnlyLive, endedAt: liveSession.endedAt })
      .from(liveSession)
      .innerJoin(channel, eq(channel.id, liveSession.channelId))
      .where(eq(liveSession.id, session))
      .limit(1);
    if (ch?.only) await requireEntitled(database.db, await viewerOf(c.var.deps, c.req.raw.headers), ch, 'This live stream');
    // on air, before the recorder's first frame (its first segment, a few seconds in): nothing yet, not an error —
    // a card falls back to the channel's avatar and asks again at its next refresh
    if (ch && !ch.endedAt && (await c.var.deps.store.size(previewKey(session))) === null) {
      c.header('Cache-Control', 'no-store');
      return c.body(null, 204);
    }
    return sendObject(c, previewKey(session), { 'Content-Type': 'image/jpeg', ...mediaCacheControl('preview', ch?.only ? 'session' : 'public', nowSeconds()) });
  })
  // (GET also answers HEAD: Hono routes it here and drops the body)
  .get('/hls/vod/:id/:file{.+}', async (c) => {
    const { id, file } = c.req.param();
    if (!/^[0-9a-f-]{36}$/.test(id) || !VOD_FILE.test(file)) throw notFound('That file');
    const { config, store } = c.var.deps;
    const prefix = vodPrefix(id);
    const key = `${prefix}${file}`;
    // Who the file is for. A token is checked alone, without the database (what lets an edge serve it too); without
    // one the poster is public and the rest is as the VoD's entitlement says.
    const token = c.req.query('token');
    let audience: MediaAudience = 'public';
    let signWith: string | undefined;
    if (token !== undefined) {
      const check = await verifyMediaToken(token, key, await mediaKeys(c.var.deps), nowSeconds());
      if (!check.ok) throw forbidden(check.message);
      await refuseOtherViewer(c, check.grant.viewer);
      audience = { tokenExp: check.grant.exp };
      signWith = token;
    } else {
      const row = await findVod(c.var.deps, id);
      // images are public, unless the VoD is hidden from some (private, scheduled, failed); the storyboard previews
      // the video itself
      const guarded = !file.endsWith('.jpg') || file === VOD_IMAGES.storyboard || (!!row && vodAccess(row.vod, row.channel, null) === 'hidden');
      const viewer = row && guarded ? await requireVodEntitlement(c, row) : null;
      if (viewer) {
        audience = 'session';
        // the segments it names carry a token: the viewer's browser fetches them from a CDN, without the cookie
        if (file.endsWith('.m3u8')) signWith = await signVod(c.var.deps, prefix, viewer.id);
      }
    }
    if (file.endsWith('.m3u8')) return sendPlaylist(c, prefix, file, audience, signWith);
    // Without a CDN in front, segments come straight from the object store: the playlist stays here so its relative
    // segment URIs resolve to us. With one (MEDIA_PUBLIC_URL), Glint serves the bytes for the CDN to keep.
    if (store.kind === 's3' && !config.media.publicUrl) {
      const url = await store.signedUrl(key, 3600);
      if (url) {
        // a redirect to a signed object-store URL is a credential for that file: never kept for anyone else
        c.header('Cache-Control', audience === 'public' ? 'public, max-age=600' : 'private, no-store');
        if (audience === 'session') c.header('Vary', 'Cookie');
        return c.redirect(url, 302);
      }
    }
    return sendObject(c, key, { 'Content-Type': CONTENT_TYPES[file.split('.').pop()!]!, ...mediaCacheControl('segment', audience, nowSeconds()) });
  });
