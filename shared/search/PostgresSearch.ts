// Search in the database itself: search_doc (kept by triggers in the write's transaction) with a weighted tsvector
// for full text and prefixes, and pg_trgm word similarity over the short fields for typos. Works the same on
// PostgreSQL and on the embedded PGlite.
import { and, desc, eq, gte, lte, sql, type SQL } from 'drizzle-orm';
import { searchDoc, type Db } from '../db/index.ts';
import { docColumns, hitKind, type DocKey, type Search, type SearchDoc, type SearchQuery, type SearchResult } from './index.ts';

/** Words of a query: letters and digits only, so they can go into a tsquery as they are. */
export function queryWords(q: string): string[] {
  return (q.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 8);
}

/** The query's filters as SQL conditions. */
function filters(q: SearchQuery): SQL[] {
  const where: SQL[] = [];
  if (q.type === 'vod') where.push(eq(searchDoc.kind, 'vod'));
  else if (q.type) where.push(eq(searchDoc.kind, 'channel'));
  if (q.type === 'live') where.push(eq(searchDoc.live, true));
  if (q.live !== undefined) where.push(eq(searchDoc.live, q.live));
  if (q.category) where.push(sql`lower(${searchDoc.category}) = ${q.category.toLowerCase()}`);
  if (q.from) where.push(gte(searchDoc.date, q.from));
  if (q.to) where.push(lte(searchDoc.date, q.to));
  return where;
}

export class PostgresSearch implements Search {
  readonly kind = 'postgres';

  constructor(private readonly db: Db) {}

  async query(q: SearchQuery): Promise<SearchResult> {
    const words = queryWords(q.q);
    const where = filters(q);
    let score: SQL<number> = sql<number>`0::float8`;
    if (words.length) {
      const text = words.join(' ');
      // every word, the last one as a prefix too (instant search sees words half typed)
      const tsq = sql`to_tsquery('english', ${words.map((w) => `'${w}':*`).join(' & ')})`;
      // typos: trigram word similarity against title, slug, category and tags (pg_trgm's <% uses the GIN index);
      // under 3 characters there are too few trigrams to tell anything apart
      const fuzzy = text.length >= 3 ? sql` or ${text} <% ${searchDoc.names}` : sql``;
      where.push(sql`(${searchDoc.tsv} @@ ${tsq}${fuzzy})`);
      // weights {D, C, B, A}: a title match counts ten times a description match; an exact title wins outright
      score = sql<number>`(ts_rank('{0.05, 0.1, 0.4, 1.0}', ${searchDoc.tsv}, ${tsq})
        + word_similarity(${text}, ${searchDoc.names}) * 0.5
        + case when lower(${searchDoc.title}) = ${q.q.trim().toLowerCase()} then 1 else 0 end)::float8`;
    }
    const rows = await this.db
      .select({
        ...docColumns,
        score,
        total: sql<number>`(count(*) over ())::int`,
      })
      .from(searchDoc)
      .where(where.length ? and(...where) : undefined)
      .orderBy(desc(score), desc(searchDoc.live), desc(searchDoc.date), searchDoc.refId)
      .limit(q.limit)
      .offset(q.offset);
    return {
      total: rows[0]?.total ?? (q.offset > 0 ? await this.count(where) : 0),
      hits: rows.map((r) => ({
        kind: hitKind(r),
        id: r.refId,
        channel: { id: r.channelId, slug: r.channelSlug, title: r.channelTitle },
        title: r.title,
        description: r.description,
        category: r.category,
        tags: r.tags,
        live: r.live,
        date: r.date.toISOString(),
        score: Number(r.score),
      })),
    };
  }

  /** The total when the page is past the end (the window count above came back with no row). */
  private async count(where: SQL[]): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(searchDoc)
      .where(where.length ? and(...where) : undefined);
    return row?.n ?? 0;
  }

  // search_doc is this index: the triggers keep it in the write's transaction, so there is nothing to send.
  async apply(_upserts: SearchDoc[], _removals: DocKey[]): Promise<void> {}
  async reset(): Promise<void> {}
}
