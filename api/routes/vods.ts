// VoDs: past broadcasts per channel, one VoD's detail, deletion by the owner (or an admin); and /hls/…, the HLS
// files themselves (GET and HEAD, byte ranges), from local disk or the object store, or as a redirect to a signed
// object-store URL. Subscriber-only files open to a session of an entitled viewer or to a signed media URL
// (shared/media-token.ts), which is checked without the database, so an edge (edge/hls-edge.ts) can check it too.
import { createRoute } from '@hono/zod-openapi';
import { Hono, type Context } from 'hono';
import { and, asc, desc, eq, inArray, isNull } from 'drizzle-orm';
import { channel, chatMessage, liveSession, user, vod, watchPosition } from '../../shared/db/index.ts';
import { conflict, forbidden, notFound, rangeNotSatisfiable } from '../../shared/errors.ts';
import { CONTENT_TYPES, previewKey, vodPrefix } from '../../shared/media.ts';
import { etagMatches, etagOf, mediaCacheControl, parseRange, playlistKind, rangeResponse, rewritePlaylist, type ByteRange, type MediaAudience } from '../../shared/media-http.ts';
import { deriveMediaKey, importMediaKeys, signMediaToken, verifyMediaToken, type MediaKey } from '../../shared/media-token.ts';
import { requireChannelAccess, requireUser } from '../access.ts';
import { withChannel } from '../channel-context.ts';
import { entitled, requireEntitled, viewerOf, type Viewer } from '../entitlements.ts';
import type { AppEnv, Deps } from '../context.ts';
import { removeUpload } from '../uploads.ts';
import { json, problems, router, z } from '../openapi.ts';

export const VodSchema = z
  .object({
    id: z.uuid(),
    channel: z.object({ id: z.uuid(), slug: z.string(), ownerId: z.string() }),
    liveSessionId: z.uuid().nullable(),
    title: z.string(),
    status: z.enum(['recording', 'processing', 'ready', 'failed']).openapi({
      description: "recording: still live (watch from the start); processing: an accepted upload not transcoded yet (listed for the channel's owner only); ready: a finished VoD; failed: nothing playable was recorded (listed for the channel's owner only, with failureReason)",
    }),
    failureReason: z.string().nullable().openapi({ description: 'Why a failed recording failed (null otherwise).' }),
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
    subscribersOnly: z.boolean().openapi({ description: "Only the channel's subscribers may play it (its HLS answers others 401/403)." }),
    // (issue 17, i17-webvod's minimal stand-in: the transcoder branch owns these fields and their columns)
    renditions: z
      .array(
        z.object({
          name: z.string(),
          width: z.number().int(),
          height: z.number().int(),
          bandwidth: z.number().int(),
          codecs: z.string(),
          status: z.enum(['queued', 'running', 'ready', 'failed']),
          progress: z.number().min(0).max(1),
        }),
      )
      .openapi({ description: 'The adaptive-bitrate ladder, rendition by rendition, as the transcoder makes it.' }),
    masterPlaylistUrl: z.string().nullable().openapi({ description: 'The master playlist of the ladder (null until a rendition is ready); players play it rather than playlistUrl.' }),
    thumbnails: z.object({ small: z.string(), large: z.string() }).nullable(),
    storyboard: z.object({ imageUrl: z.string(), vttUrl: z.string() }).nullable().openapi({ description: 'Sprite sheet and its WebVTT cues (`storyboard.jpg#xywh=x,y,w,h`) for previews on the seek bar.' }),
  })
  .openapi('Vod');

type VodRow = typeof vod.$inferSelect;
/** The channel of VoDs, as much of it as their JSON and their entitlement need. */
type VodChannel = { id: string; slug: string; ownerId: string; subscribersOnlyLive: boolean };

/** Subscriber-only: the VoD itself, or the recording in progress of a channel whose live streams are (its DVR). */
const restrictedVod = (v: VodRow, ch: VodChannel) => v.subscribersOnly || (v.status === 'recording' && ch.subscribersOnlyLive);

/** VoDs (of one channel) as JSON for the caller: a subscriber-only one they may watch comes with a signed playlist URL. */
async function vodJson(c: { var: AppEnv['Variables'] }, rows: VodRow[], ch: VodChannel) {
  const { deps, user } = c.var;
  const mayWatch = !!user && rows.some((v) => restrictedVod(v, ch)) && (await entitled(deps.database.db, user, ch));
  return Promise.all(
    rows.map(async (v) => {
      const signed = mayWatch && restrictedVod(v, ch) ? `${mediaUrl(deps, `${v.storagePrefix}index.m3u8`)}?token=${await signVod(deps, v.storagePrefix, user!.id)}` : null;
      const url = (key: string) => mediaUrl(deps, key);
      return { ...serialize(v, ch, url, signed), ...(await ladderOf(deps, v, url)) };
    }),
  );
}

const serialize = (v: VodRow, ch: VodChannel, url: (key: string) => string, signedPlaylistUrl: string | null): Omit<z.infer<typeof VodSchema>, keyof Awaited<ReturnType<typeof ladderOf>>> => ({
  id: v.id,
  channel: { id: v.channelId, slug: ch.slug, ownerId: ch.ownerId },
  liveSessionId: v.liveSessionId,
  title: v.title,
  status: v.status,
  failureReason: v.failureReason,
  startedAt: v.startedAt.toISOString(),
  endedAt: v.endedAt?.toISOString() ?? null,
  durationSeconds: v.durationMs === null ? null : v.durationMs / 1000,
  sizeBytes: v.sizeBytes,
  codecs: v.codecs,
  playlistUrl: url(`${v.storagePrefix}index.m3u8`),
  signedPlaylistUrl,
  posterUrl: v.posterKey ? url(v.posterKey) : null,
  subscribersOnly: v.subscribersOnly,
});

/**
 * The ladder's fields as the objects under the VoD's prefix say (i17-webvod's stand-in until the transcoder branch's
 * columns: a master playlist and a storyboard once they exist in the store).
 */
async function ladderOf(deps: Deps, v: VodRow, url: (key: string) => string): Promise<Pick<z.infer<typeof VodSchema>, 'renditions' | 'masterPlaylistUrl' | 'thumbnails' | 'storyboard'>> {
  const [master, vtt] = await Promise.all([deps.store.size(`${v.storagePrefix}master.m3u8`), deps.store.size(`${v.storagePrefix}storyboard.vtt`)]);
  return {
    renditions: [],
    masterPlaylistUrl: master === null ? null : url(`${v.storagePrefix}master.m3u8`),
    thumbnails: null,
    storyboard: vtt === null ? null : { imageUrl: url(`${v.storagePrefix}storyboard.jpg`), vttUrl: url(`${v.storagePrefix}storyboard.vtt`) },
  };
}

const ReplayMessageSchema = z
  .object({
    id: z.uuid(),
    author: z.object({ id: z.string(), name: z.string() }),
    text: z.string(),
    sentAt: z.iso.datetime(),
    offsetMs: z.number().int().nullable().openapi({ description: 'ms since the live session started' }),
  })
  .openapi('ReplayMessage');
/** (the catalog branch's shape: null when never started) */
const WatchPositionSchema = z.object({ positionSeconds: z.number() }).nullable().openapi('WatchPosition');

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
      const statuses: VodRow['status'][] = mayManage(c.var.user, ch.ownerId) ? ['recording', 'processing', 'ready', 'failed'] : ['recording', 'ready'];
      const rows = await db.select().from(vod).where(and(eq(vod.channelId, ch.id), inArray(vod.status, statuses))).orderBy(desc(vod.startedAt)).limit(100);
      return c.json({ items: await vodJson(c, rows, ch) }, 200);
    },
  ),
);

/** The channel's owner or an admin: who sees its failed recordings. */
const mayManage = (user: AppEnv['Variables']['user'], ownerId: string) => !!user && (user.id === ownerId || user.role === 'admin');

/** A VoD with its channel, or undefined. */
async function findVod(deps: Deps, id: string) {
  const [row] = await deps.database.db
    .select({ vod, channel: { id: channel.id, slug: channel.slug, ownerId: channel.ownerId, subscribersOnlyLive: channel.subscribersOnlyLive } })
    .from(vod)
    .innerJoin(channel, eq(channel.id, vod.channelId))
    .where(eq(vod.id, id))
    .limit(1);
  return row;
}

/** A VoD with its channel; a failed one exists only for its channel's owner and admins (404 for anyone else). */
async function loadVod(c: { var: AppEnv['Variables'] }, id: string) {
  const row = await findVod(c.var.deps, id);
  if (!row || (row.vod.status === 'failed' && !mayManage(c.var.user, row.channel.ownerId))) throw notFound('That VoD');
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
      if (await requireVodEntitlement(c, row.vod.id)) {
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
      requireChannelAccess(c, { ownerId: row.channel.ownerId }, 'own');
      const [changed] = await c.var.deps.database.db.update(vod).set(c.req.valid('json')).where(eq(vod.id, row.vod.id)).returning();
      const [json] = await vodJson(c, [changed!], row.channel);
      return c.json(json!, 200);
    },
  )
  // (i17-webvod's minimal resume position; the catalog branch owns these two routes)
  .openapi(
    createRoute({
      method: 'get',
      path: '/{id}/position',
      tags,
      summary: 'Where the signed-in viewer stopped watching this VoD (null: never started, or finished)',
      request: { params: IdParam },
      responses: { 200: json(WatchPositionSchema, 'The position.'), ...problems(400, 401, 404) },
    }),
    async (c) => {
      const me = requireUser(c);
      const row = await loadVod(c, c.req.valid('param').id);
      const [pos] = await c.var.deps.database.db
        .select({ positionSeconds: watchPosition.positionSeconds })
        .from(watchPosition)
        .where(and(eq(watchPosition.userId, me.id), eq(watchPosition.vodId, row.vod.id)));
      c.header('Cache-Control', 'private, no-store');
      return c.json(pos ?? null, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'put',
      path: '/{id}/position',
      tags,
      summary: 'Remember where the signed-in viewer is in this VoD (the player sends it every few seconds and on pause)',
      request: {
        params: IdParam,
        body: { required: true, content: { 'application/json': { schema: z.object({ positionSeconds: z.number().min(0).max(7 * 24 * 3600) }).strict().openapi('WatchPositionInput') } } },
      },
      responses: { 204: { description: 'Remembered.' }, ...problems(400, 401, 404, 415) },
    }),
    async (c) => {
      const me = requireUser(c);
      const row = await loadVod(c, c.req.valid('param').id);
      const { positionSeconds } = c.req.valid('json');
      const now = new Date();
      await c.var.deps.database.db
        .insert(watchPosition)
        .values({ userId: me.id, vodId: row.vod.id, positionSeconds, updatedAt: now })
        .onConflictDoUpdate({ target: [watchPosition.userId, watchPosition.vodId], set: { positionSeconds, updatedAt: now } });
      return c.body(null, 204);
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
      requireChannelAccess(c, { ownerId: row.channel.ownerId }, 'own');
      if (row.vod.status === 'recording') throw conflict('This broadcast is still being recorded; delete it once it has ended.');
      await c.var.deps.store.deletePrefix(row.vod.storagePrefix);
      // an uploaded video's source file goes too (and its quota with it)
      if (row.vod.uploadId) await removeUpload(c.var.deps, row.vod.uploadId);
      await c.var.deps.database.db.delete(vod).where(eq(vod.id, row.vod.id));
      return c.body(null, 204);
    },
  );

/**
 * A subscriber-only recording's playlist and segments are for those entitled (the poster stays public); so is the
 * recording of a broadcast in progress on a channel whose live streams are subscriber-only (switched on mid-broadcast
 * too: the recording is the stream's DVR). Resolves to the entitled viewer when the file is restricted (then it may be
 * kept by the viewer's own cache only), to null when it is public.
 */
async function requireVodEntitlement(c: Context<AppEnv>, id: string): Promise<NonNullable<Viewer> | null> {
  const row = await findVod(c.var.deps, id);
  if (!row || !restrictedVod(row.vod, row.channel)) return null;
  const viewer = await viewerOf(c.var.deps, c.req.raw.headers);
  await requireEntitled(c.var.deps.database.db, viewer, row.channel, 'This recording');
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
async function sendPlaylist(c: Context<AppEnv>, key: string, audience: MediaAudience, token: string | undefined) {
  const obj = await c.var.deps.store.get(key);
  if (!obj) throw notFound('That file');
  const text = await new Response(obj.body).text();
  // (a rendition's playlist is in its own folder: its URIs are relative to that folder)
  const base = c.var.deps.config.media.publicUrl ? mediaUrl(c.var.deps, key.slice(0, key.lastIndexOf('/') + 1)) : '';
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
 * The files of a VoD anyone may ask for: the recording's (index.m3u8, seg-NNNNN.ts, poster.jpg) and the ladder's
 * (master.m3u8, `<rendition>/index.m3u8|init.mp4|seg-NNNNN.m4s`, the storyboard, thumbnails and poster frames).
 * (i17-webvod's copy; the transcoder branch owns this list.)
 */
const VOD_FILE =
  /^(index\.m3u8|seg-\d{5}\.ts|poster\.jpg|master\.m3u8|storyboard\.(jpg|vtt)|thumb-(small|large)\.jpg|frame-[1-4]\.jpg|(1080p|720p|480p|360p|240p|audio)\/(index\.m3u8|init\.mp4|seg-\d{5}\.m4s))$/;

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
    } else if (!file.endsWith('.jpg')) {
      const viewer = await requireVodEntitlement(c, id);
      if (viewer) {
        audience = 'session';
        // the segments it names carry a token: the viewer's browser fetches them from a CDN, without the cookie
        if (file.endsWith('.m3u8')) signWith = await signVod(c.var.deps, prefix, viewer.id);
      }
    }
    if (file.endsWith('.m3u8')) return sendPlaylist(c, key, audience, signWith);
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
