// Search in the database itself: search_doc, kept by triggers in the write's transaction, so never behind. Full text
// with prefixes over a tsvector per part (title; category and tags; the rest), searched in tiers in that order; typos
// by looking up near spellings of each word in search_word (pg_trgm) and searching for those too. The same SQL runs on
// PostgreSQL and on the embedded PGlite.
import { and, desc, eq, gte, lte, or, sql, type SQL } from 'drizzle-orm';
import { searchDoc, searchWord, type Db } from '../db/index.ts';
import { docColumns, hitKind, listsRecordingsInProgress, premieresBy, type DocKey, type Search, type SearchDoc, type SearchHit, type SearchQuery, type SearchResult } from './contract.ts';

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
  // a broadcast once: its channel's live hit, not also its recording in progress
  if (!listsRecordingsInProgress(q)) where.push(or(eq(searchDoc.kind, 'channel'), eq(searchDoc.live, false))!);
  if (q.live !== undefined) where.push(eq(searchDoc.live, q.live));
  // a scheduled premiere's document is dated at its publish time: found from then on (api/vod-visibility.ts)
  where.push(or(eq(searchDoc.kind, 'channel'), lte(searchDoc.date, premieresBy(q)))!);
  if (q.category) where.push(sql`lower(${searchDoc.category}) = ${q.category.toLowerCase()}`);
  if (q.from) where.push(gte(searchDoc.date, q.from));
  if (q.to) where.push(lte(searchDoc.date, q.to));
  return where;
}

/** Totals are exact up to this many hits (Meilisearch's default maxTotalHits is the same). */
export const MAX_TOTAL = 1000;

function toHit(r: SearchDoc & { score: number }): SearchHit {
  return {
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
  };
}

/** One tier of hits: what matches it, and the score its hits show (ranked: ordered by that score first). */
type Tier = { match: SQL; score: SQL<number>; ranked?: boolean };

export class PostgresSearch implements Search {
  readonly kind = 'postgres';

  constructor(private readonly db: Db) {}

  async query(q: SearchQuery): Promise<SearchResult> {
    const where = filters(q);
    const words = queryWords(q.q);
    if (words.length === 0) {
      if (q.q.trim()) return { hits: [], total: 0 }; // only punctuation: nothing to look for
      // browsing: live first, then newest, straight from search_doc_category_idx or search_doc_recent_idx
      const [rows, total] = await Promise.all([this.page(where, undefined, q.offset + q.limit), this.count(where)]);
      return { hits: rows.slice(q.offset).map(toHit), total };
    }
    const near = await this.nearSpellings(words);
    // each word as typed (the last one half typed, so every one as a prefix) or as one of its near spellings
    const typed = words.map((w) => `${w}:*`);
    const tolerant = words.map((w, i) => [typed[i], ...(near.get(w) ?? [])].join(' | ')).map((alts) => `(${alts})`);
    const tsq = sql`to_tsquery('english', ${tolerant.join(' & ')})`;
    const exact = sql`to_tsquery('english', ${typed.join(' & ')})`;
    const title = q.q.trim().toLowerCase();
    // Tiers, as Meilisearch's attribute rule ranks: all words in the title, then in category or tags, then in the rest
    // (the description; a VoD's channel title), then spread over several of them; live first then newest within a
    // tier, in index order, so a common word costs a few index pages instead of ranking every document that mentions
    // it. Title matches rank by relevance: an exact title first, words as typed before near spellings, and for
    // several words, words close together (cover density) — which one word cannot differ in, so its title tier is
    // three index-ordered ones instead.
    const spelled = near.get(words[0]!) ?? [];
    const titleTiers: Tier[] =
      words.length === 1
        ? [
            { match: sql`lower(${searchDoc.title}) = ${title}`, score: sql<number>`3.5::float8` },
            { match: sql`${searchDoc.tsvTitle} @@ ${exact}`, score: sql<number>`2.5::float8` },
            ...(spelled.length ? [{ match: sql`${searchDoc.tsvTitle} @@ to_tsquery('english', ${spelled.join(' | ')})`, score: sql<number>`2::float8` }] : []),
          ]
        : [
            {
              match: sql`${searchDoc.tsvTitle} @@ ${tsq}`,
              ranked: true,
              score: sql<number>`(2 + ts_rank_cd(${searchDoc.tsvTitle}, ${tsq}, 4)
                + case when ${searchDoc.tsvTitle} @@ ${exact} then 0.5 else 0 end
                + case when lower(${searchDoc.title}) = ${title} then 1 else 0 end)::float8`,
            },
          ];
    const tiers: Tier[] = [
      ...titleTiers,
      { match: sql`${searchDoc.tsvKeywords} @@ ${tsq}`, score: sql<number>`1::float8` },
      { match: sql`${searchDoc.tsvRest} @@ ${tsq}`, score: sql<number>`0.5::float8` },
      ...(words.length > 1 ? [{ match: sql`${searchDoc.tsv} @@ ${tsq}`, score: sql<number>`0.25::float8` }] : []),
    ];
    const need = q.offset + q.limit;
    const tiered = async () => {
      const rows = new Map<string, Awaited<ReturnType<PostgresSearch['page']>>[number]>();
      for (const tier of tiers) {
        if (rows.size >= need) break;
        // a document can match several tiers and counts in the first: up to rows.size of these may be seen already,
        // so `need` of them always leaves enough new ones (each tier matches on its own column, without "and not
        // an earlier tier", which would spoil the planner's estimate of how many rows match)
        for (const r of await this.page([...where, tier.match], tier.ranked ? tier.score : undefined, need, tier.score)) {
          const key = `${r.kind}:${r.refId}`;
          if (!rows.has(key)) rows.set(key, r);
        }
      }
      return [...rows.values()].slice(0, need);
    };
    const [rows, total] = await Promise.all([tiered(), this.count([...where, sql`${searchDoc.tsv} @@ ${tsq}`])]);
    return { hits: rows.slice(q.offset).map(toHit), total };
  }

  /** The first `limit` documents: by `rankBy` when given, then live first, then newest (the indexes' order). */
  private page(where: SQL[], rankBy: SQL<number> | undefined, limit: number, score: SQL<number> = sql<number>`0::float8`) {
    return this.db
      .select({ ...docColumns, score })
      .from(searchDoc)
      .where(and(...where))
      .orderBy(...(rankBy ? [desc(rankBy)] : []), sql`${searchDoc.live} desc nulls last`, sql`${searchDoc.date} desc nulls last`, searchDoc.refId)
      .limit(limit);
  }

  /** How many documents match, exactly up to MAX_TOTAL (counting every match of a common word would cost a scan). */
  private async count(where: SQL[]): Promise<number> {
    const matches = this.db.select({ one: sql`1` }).from(searchDoc).where(and(...where)).limit(MAX_TOTAL).as('matches');
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(matches);
    return row?.n ?? 0;
  }

  /**
   * Up to three indexed words spelled like each query word of 4+ letters (pg_trgm similarity over search_word):
   * "strem" → stream, streams. Shorter words have too few trigrams to tell a typo from another word.
   */
  private async nearSpellings(words: string[]): Promise<Map<string, string[]>> {
    const long = [...new Set(words.filter((w) => w.length >= 4))];
    const near = new Map<string, string[]>();
    if (long.length === 0) return near;
    const result = await this.db.execute(sql`
      select q.w as typed, s.word from unnest(string_to_array(${long.join(' ')}, ' ')) as q(w)
      cross join lateral (select ${searchWord.word} as word from ${searchWord} where ${searchWord.word} % q.w and ${searchWord.word} <> q.w
                          order by similarity(${searchWord.word}, q.w) desc limit 3) as s`);
    const rows = (result as unknown as { rows: { typed: string; word: string }[] }).rows;
    for (const r of rows) {
      // only words a tsquery can take as they are (the vocabulary splits on the same classes, this is a guard)
      if (/^[\p{L}\p{N}]+$/u.test(r.word)) near.set(r.typed, [...(near.get(r.typed) ?? []), r.word]);
    }
    return near;
  }

  // search_doc is this index: the triggers keep it in the write's transaction, so there is nothing to send.
  async apply(_upserts: SearchDoc[], _removals: DocKey[]): Promise<void> {}
  async reset(): Promise<void> {}
}
