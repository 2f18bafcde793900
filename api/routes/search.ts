// Search over channels, live streams and VoDs (whichever implementation config picked), and the categories to browse.
import { createRoute } from '@hono/zod-openapi';
import { and, desc, eq, ne, sql } from 'drizzle-orm';
import { searchDoc } from '../../shared/db/index.ts';
import { SEARCH_KINDS } from '../../shared/search/index.ts';
import { SEARCH_QUERY_MAX } from '../../shared/rules.ts';
import { instant, json, problems, router, z } from '../openapi.ts';

const SearchParams = z
  .object({
    q: z.string().max(SEARCH_QUERY_MAX, `at most ${SEARCH_QUERY_MAX} characters`).default('').openapi({ description: 'Words to find; typos are tolerated. Empty: everything the filters let through, live first, then newest.' }),
    type: z
      .enum(SEARCH_KINDS)
      .optional()
      .openapi({ description: 'channel (live or not), live (broadcasting now) or vod. Without it a broadcast is listed once, as its live channel; with vod, its recording in progress is listed too.' }),
    live: z.enum(['true', 'false']).optional().openapi({ description: 'Only what is live now (broadcasting channels; with type=vod, recordings in progress), or only what is not' }),
    category: z.string().trim().max(50).optional(),
    from: instant({ description: 'Started (a broadcast, a VoD) or created (an offline channel) at or after' }).optional(),
    to: instant({ end: true, description: '… at or before (a date: up to its end)' }).optional(),
    limit: z.coerce.number().int().min(1).max(50).default(20),
    offset: z.coerce.number().int().min(0).max(1000).default(0),
  })
  .refine((p) => !p.from || !p.to || p.from <= p.to, { message: 'from must not be after to', path: ['from'] });

const SearchHitSchema = z
  .object({
    kind: z.enum(SEARCH_KINDS),
    id: z.uuid().openapi({ description: "The channel's or the VoD's id" }),
    channel: z.object({ id: z.uuid(), slug: z.string(), title: z.string() }),
    title: z.string(),
    description: z.string(),
    category: z.string(),
    tags: z.array(z.string()),
    live: z.boolean(),
    date: z.iso.datetime(),
    score: z.number(),
  })
  .openapi('SearchHit');

const SearchPage = z
  .object({ items: z.array(SearchHitSchema), total: z.number().int(), limit: z.number().int(), offset: z.number().int(), engine: z.enum(['postgres', 'meilisearch']) })
  .openapi('SearchPage');

const Category = z.object({ name: z.string(), channels: z.number().int(), live: z.number().int() }).openapi('Category');

export const searchApp = router().openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['search'],
    summary: 'Search channels, live streams and VoDs',
    request: { query: SearchParams },
    responses: { 200: json(SearchPage, 'Best matches first (an exact title first of all).'), ...problems(400, 429, 503) },
  }),
  async (c) => {
    const p = c.req.valid('query');
    const { search, limits } = c.var.deps;
    // each search is a database (or Meilisearch) query: a budget per address, and a cap on how many run at once
    await limits.take('searches', [limits.searches, c.var.address]);
    const live = p.live === undefined ? undefined : p.live === 'true';
    const result = await limits.searching(() => search.query({ q: p.q, type: p.type, live, category: p.category, from: p.from, to: p.to, limit: p.limit, offset: p.offset }));
    return c.json({ items: result.hits, total: result.total, limit: p.limit, offset: p.offset, engine: search.kind }, 200);
  },
);

export const categoriesApp = router().openapi(
  createRoute({
    method: 'get',
    path: '/',
    tags: ['search'],
    summary: 'Categories with their channels, busiest first',
    responses: { 200: json(z.object({ items: z.array(Category) }).openapi('CategoryList'), 'Up to 200 categories: most live channels first, then most channels.') },
  }),
  async (c) => {
    const { db } = c.var.deps.database;
    // from search_doc, which the triggers keep in step with the channels whichever index serves the searches
    const rows = await db
      .select({
        name: sql<string>`min(${searchDoc.category})`,
        channels: sql<number>`count(*)::int`,
        live: sql<number>`(count(*) filter (where ${searchDoc.live}))::int`,
      })
      .from(searchDoc)
      .where(and(eq(searchDoc.kind, 'channel'), ne(searchDoc.category, '')))
      .groupBy(sql`lower(${searchDoc.category})`)
      .orderBy(desc(sql`3`), desc(sql`2`), sql`1`)
      .limit(200);
    return c.json({ items: rows }, 200);
  },
);
