// The public reads a crowd makes when a channel goes live — its JSON, its VoD list, the chat history a join receives
// — answered from the read cache (shared/read-cache.ts), and kept right: each write in the API invalidates what it
// changes before it answers, and the bus events of every process's writes (the SFU's live/offline, the recorder's and
// transcoder's VoD changes, another API's chat and edits) invalidate here too. What changes every second is kept out
// of the cache: a broadcast's viewer count is merged into each answer from the latest channel.viewers event.
// Answers carry an ETag (a hash of the body as sent) and Cache-Control: no-cache, so a browser revalidates every time
// and gets a 304 while nothing changed.
import type { Context } from 'hono';
import { eq } from 'drizzle-orm';
import { channel, follow, type Db } from '../shared/db/index.ts';
import type { EventBus } from '../shared/bus.ts';
import { sha1Hex } from '../shared/host/hash.ts';
import { etagMatches } from '../shared/media-http.ts';
import type { Loaded, ReadCache } from '../shared/read-cache.ts';
import { VOD_SOURCES } from '../shared/vod-catalog.ts';

/** The ETag of a body: the same text gives the same tag in every process, so a client may move between them. */
export const etagOfBody = (text: string) => `"${sha1Hex(text).slice(0, 27)}"`;

/** The 304 of a route answered by conditional(), for its OpenAPI responses. */
export const notModified = { 304: { description: 'Not modified since the ETag sent as If-None-Match.' } } as const;

/**
 * Answers `text` (JSON) with its ETag, or 304 Not Modified when If-None-Match names it. `shared`: the answer is the
 * same for every caller (no-cache: stored, revalidated each time); otherwise it is the caller's own (private, and it
 * varies with the session cookie). A route returns it `as never`: the text is its schema's JSON already serialized,
 * which zod-openapi's typed c.json() cannot know.
 */
export function conditional(c: Context, text: string, shared: boolean): Response {
  const etag = etagOfBody(text);
  const headers: Record<string, string> = { ETag: etag, 'Cache-Control': shared ? 'no-cache' : 'private, no-cache' };
  if (!shared) headers.Vary = 'Cookie';
  if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
  return c.body(text, 200, { ...headers, 'Content-Type': 'application/json' });
}

/** What a cached channel JSON must have for the viewer count to be merged in (ChannelSchema's live part). */
type WithLive = { live: { sessionId: string; viewers: number } | null };

/** Latest viewer counts per broadcast a process keeps at most (one per live channel; the oldest go first). */
const MAX_COUNTS = 100_000;

/** The keys of the cached reads. */
export const readKeys = {
  channel: (slug: string) => `channel:${slug}`,
  vods: (channelId: string, source: (typeof VOD_SOURCES)[number] | undefined) => `vods:${channelId}:${source ?? 'all'}`,
  allVods: (channelId: string) => [undefined, ...VOD_SOURCES].map((s) => readKeys.vods(channelId, s)),
  chat: (slug: string) => `chat:${slug}`,
};

/** The read cache with the invalidations every API process applies from the bus, and the live viewer counts. */
export class PublicReads {
  private readonly viewers = new Map<string, number>();
  private readonly unsubscribe: (() => void)[];

  constructor(
    readonly cache: ReadCache,
    bus: EventBus,
    private readonly onError: (err: unknown) => void,
  ) {
    const drop = (keys: string[]) => void this.cache.invalidate(keys).catch(this.onError);
    // the VoDs' JSON names their channel
    const channelChanged = (e: { channelId: string; slug: string }) => drop([readKeys.channel(e.slug), readKeys.chat(e.slug), ...readKeys.allVods(e.channelId)]);
    // a broadcast's start and end change the channel's JSON and its list (the recording in progress, then ended)
    const broadcast = (e: { channelId: string; slug: string }) => drop([readKeys.channel(e.slug), ...readKeys.allVods(e.channelId)]);
    const vodChanged = (e: { channelId: string }) => drop(readKeys.allVods(e.channelId));
    this.unsubscribe = [
      // a slug that answered 404 (cached as such for chat joins) may exist now
      bus.subscribe('channel.created', channelChanged),
      bus.subscribe('channel.updated', channelChanged),
      bus.subscribe('channel.deleted', channelChanged),
      bus.subscribe('channel.live', broadcast),
      bus.subscribe('channel.resumed', broadcast),
      bus.subscribe('broadcast.renamed', broadcast),
      bus.subscribe('channel.offline', (e) => {
        this.viewers.delete(e.sessionId);
        broadcast(e);
      }),
      bus.subscribe('channel.viewers', (e) => this.counted(e.sessionId, e.viewers)),
      bus.subscribe('vod.ready', vodChanged),
      bus.subscribe('vod.progress', vodChanged),
      bus.subscribe('vod.updated', vodChanged),
      bus.subscribe('chat.message', (e) => drop([readKeys.chat(e.slug)])),
    ];
  }

  private counted(sessionId: string, viewers: number) {
    this.viewers.delete(sessionId);
    this.viewers.set(sessionId, viewers);
    if (this.viewers.size > MAX_COUNTS) this.viewers.delete(this.viewers.keys().next().value!);
  }

  /** A channel's JSON, cached, with its broadcast's latest viewer count merged in. */
  async channel<T extends WithLive>(slug: string, load: () => Promise<T>): Promise<T> {
    const cached = await this.cache.get(readKeys.channel(slug), async () => ({ value: await load() }));
    const latest = cached.live ? this.viewers.get(cached.live.sessionId) : undefined;
    if (!cached.live || latest === undefined || latest === cached.live.viewers) return cached;
    return { ...cached, live: { ...cached.live, viewers: latest } };
  }

  /** Any other cached read (`key` from readKeys). */
  get<T>(key: string, load: () => Promise<Loaded<T>>): Promise<T> {
    return this.cache.get(key, load);
  }

  /** Forgets a channel's JSON (after an edit, a follow, an avatar; `slugs`: old and new after a rename). */
  invalidateChannel(...slugs: string[]): Promise<void> {
    return this.cache.invalidate(slugs.map(readKeys.channel));
  }

  /** Forgets the JSON of every channel `userId` owns (their name, shown as the owner's, changed). */
  async invalidateChannelsOf(db: Db, userId: string): Promise<void> {
    const owned = await db.select({ slug: channel.slug }).from(channel).where(eq(channel.ownerId, userId));
    await this.invalidateChannel(...owned.map((r) => r.slug));
  }

  /**
   * Account deletion's two hooks: before, the channels the account follows (its follows go with it, so their follower
   * counts change); after, those channels' JSON is forgotten — after, so no read between the two caches the old count.
   */
  accountDeletion(db: Db): { before(userId: string): Promise<void>; after(userId: string): Promise<void> } {
    const followed = new Map<string, string[]>();
    return {
      before: async (userId) => {
        const rows = await db.select({ slug: channel.slug }).from(follow).innerJoin(channel, eq(channel.id, follow.channelId)).where(eq(follow.userId, userId));
        followed.set(userId, rows.map((r) => r.slug));
      },
      after: async (userId) => {
        const slugs = followed.get(userId) ?? [];
        followed.delete(userId);
        await this.invalidateChannel(...slugs);
      },
    };
  }

  /** Forgets a channel's VoD lists (after a VoD's edit, deletion, poster or counted view). */
  invalidateVods(channelId: string): Promise<void> {
    return this.cache.invalidate(readKeys.allVods(channelId));
  }

  /** Forgets what a chat join receives (after a send, a deletion, a change of modes, emotes or badges). */
  invalidateChat(slug: string): Promise<void> {
    return this.cache.invalidate([readKeys.chat(slug)]);
  }

  async close(): Promise<void> {
    for (const off of this.unsubscribe) off();
    this.viewers.clear();
    await this.cache.close();
  }
}
