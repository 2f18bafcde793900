// The catalog: every ready, listed video (public and subscriber-only, published), of uploads and past broadcasts,
// filtered by category, language, duration, date and source, newest or most viewed first, a page at a time.
import { createRoute } from '@hono/zod-openapi';
import { and, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { channel, vod } from '../../shared/db/index.ts';
import { invalid } from '../../shared/errors.ts';
import { CATALOG_PAGE_MAX, CATALOG_SORTS, DATE_RANGES, DURATION_BUCKETS, LANGUAGE_CODES, VOD_SOURCES, type DateRange, type DurationBucket } from '../../shared/vod-catalog.ts';
import { listedVods } from '../vod-visibility.ts';
import { json, problems, router, z } from '../openapi.ts';
import { VodSchema, vodChannelColumns, vodsJson } from './vods.ts';

/** When a video was published: its premiere time when it had one, else when it started (recorded or uploaded). */
const publishedAt = sql<Date>`greatest(${vod.startedAt}, coalesce(${vod.publishAt}, ${vod.startedAt}))`;

const CatalogQuery = z.object({
  category: z.string().trim().max(50).optional(),
  language: z.enum(LANGUAGE_CODES as [string, ...string[]]).optional(),
  duration: z.enum(Object.keys(DURATION_BUCKETS) as [DurationBucket, ...DurationBucket[]]).optional().openapi({ description: 'short: under 4 min; medium: 4–20 min; long: over 20 min' }),
  date: z.enum(Object.keys(DATE_RANGES) as [DateRange, ...DateRange[]]).optional().openapi({ description: 'Published within the last day, week, month or year' }),
  source: z.enum(VOD_SOURCES).optional(),
  sort: z.enum(CATALOG_SORTS).default('newest'),
  limit: z.coerce.number().int().min(1).max(CATALOG_PAGE_MAX).default(24),
  cursor: z.string().max(120).optional().openapi({ description: 'nextCursor of the previous page' }),
});

/** A page boundary: the last item's sort key (publish time in ms, or view count) and id, as `<number>_<uuid>`. */
const cursorOf = (key: number, id: string) => `${key}_${id}`;
function parseCursor(s: string): { key: number; id: string } {
  const m = /^(\d{1,15})_([0-9a-f-]{36})$/.exec(s);
  if (!m || !z.uuid().safeParse(m[2]).success) throw invalid('cursor: not a cursor from a previous page');
  return { key: Number(m[1]), id: m[2]! };
}

export const videosApp = router().openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['vods'],
    summary: 'Browse the videos: ready, listed ones, filtered and sorted',
    request: { query: CatalogQuery },
    responses: {
      200: json(z.object({ items: z.array(VodSchema), nextCursor: z.string().nullable() }).openapi('VideoPage'), 'A page of videos.'),
      ...problems(400),
    },
  }),
  async (c) => {
    const q = c.req.valid('query');
    const now = new Date();
    const where: SQL[] = [eq(vod.status, 'ready'), listedVods(now)];
    if (q.category) where.push(sql`lower(${vod.category}) = ${q.category.toLowerCase()}`);
    if (q.language) where.push(eq(vod.language, q.language));
    if (q.source) where.push(eq(vod.source, q.source));
    if (q.duration) {
      const [min, max] = DURATION_BUCKETS[q.duration];
      where.push(gte(vod.durationMs, min * 1000));
      if (Number.isFinite(max)) where.push(lt(vod.durationMs, max * 1000));
    }
    if (q.date) where.push(sql`${publishedAt} >= ${new Date(now.getTime() - DATE_RANGES[q.date])}`);
    // keyset pagination on (key, id), both descending
    const key = q.sort === 'views' ? sql<number>`${vod.viewCount}` : sql<number>`(extract(epoch from ${publishedAt}) * 1000)::bigint`;
    if (q.cursor) {
      const at = parseCursor(q.cursor);
      where.push(sql`(${key}, ${vod.id}) < (${at.key}, ${at.id}::uuid)`);
    }
    const rows = await c.var.deps.database.db
      .select({ vod, channel: vodChannelColumns, key })
      .from(vod)
      .innerJoin(channel, eq(channel.id, vod.channelId))
      .where(and(...where))
      .orderBy(sql`${key} desc`, sql`${vod.id} desc`)
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > q.limit && last ? cursorOf(Number(last.key), last.vod.id) : null;
    return c.json({ items: await vodsJson(c, page), nextCursor }, 200);
  },
);
