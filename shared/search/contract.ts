// What both search implementations share: the interface, the queries and hits, and the documents of search_doc they
// index. Apart from index.ts so the implementations import it without importing the module that picks them.
import { sql } from 'drizzle-orm';
import { searchDoc, type Db, type SearchDocKind } from '../db/index.ts';

/** What a hit is: a channel (offline), a channel broadcasting now, or a recording. */
export const SEARCH_KINDS = ['channel', 'live', 'vod'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

export type SearchQuery = {
  /** free text; empty: everything the filters let through, live first, then newest */
  q: string;
  /** channel: every channel (live or not); live: channels broadcasting now; vod: recordings */
  type?: SearchKind | undefined;
  /** only what is live now (a broadcasting channel; with type vod, a recording in progress), or only what is not */
  live?: boolean | undefined;
  category?: string | undefined;
  /** on `date`: a channel's broadcast start (or creation), a VoD's broadcast start */
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
  offset: number;
  /** the time premieres are compared with (now by default; VoD documents dated later are not found yet) */
  now?: Date | undefined;
};

export type SearchHit = {
  kind: SearchKind;
  /** the channel's or the VoD's id */
  id: string;
  channel: { id: string; slug: string; title: string };
  title: string;
  description: string;
  category: string;
  tags: string[];
  live: boolean;
  date: string;
  /** higher is better; comparable within one response only */
  score: number;
};

export type SearchResult = { hits: SearchHit[]; total: number };

/** A row of search_doc: what both implementations index. */
export type SearchDoc = Omit<typeof searchDoc.$inferSelect, 'tsv' | 'tsvTitle' | 'tsvKeywords' | 'tsvRest' | 'names'>;
export type DocKey = { kind: SearchDocKind; refId: string };

export interface Search {
  readonly kind: 'postgres' | 'meilisearch';
  query(q: SearchQuery): Promise<SearchResult>;
  /** Makes the index hold these documents as given and not hold the removed ones; applying twice changes nothing. */
  apply(upserts: SearchDoc[], removals: DocKey[]): Promise<void>;
  /** Empties the index and (re)applies its settings, before a full reindex. */
  reset(): Promise<void>;
}

/** search_doc's columns as SearchDoc (not the derived ones). */
export const docColumns = {
  kind: searchDoc.kind,
  refId: searchDoc.refId,
  channelId: searchDoc.channelId,
  channelSlug: searchDoc.channelSlug,
  channelTitle: searchDoc.channelTitle,
  title: searchDoc.title,
  description: searchDoc.description,
  category: searchDoc.category,
  tags: searchDoc.tags,
  keywords: searchDoc.keywords,
  live: searchDoc.live,
  date: searchDoc.date,
};

/** Reads documents by key (the sync worker's view of the current state). */
export async function readDocs(db: Pick<Db, 'select'>, keys: DocKey[]): Promise<SearchDoc[]> {
  if (keys.length === 0) return [];
  // the keys as two arrays (one parameter each, however many keys: a long IN list overflows PGlite's stack)
  const wanted = sql`(select * from unnest(string_to_array(${keys.map((k) => k.kind).join(',')}, ','), string_to_array(${keys.map((k) => k.refId).join(',')}, ',')::uuid[]))`;
  return db.select(docColumns).from(searchDoc).where(sql`(${searchDoc.kind}, ${searchDoc.refId}) in ${wanted}`);
}

/**
 * Whether a query lists recordings in progress. A broadcast has two documents while it lasts, its channel's (live) and
 * its recording's; outside the videos (type vod) it is listed once, as its channel's live hit, which is where a viewer
 * watches it. Both implementations filter on it, so totals and pages count the broadcast once too.
 */
export const listsRecordingsInProgress = (q: Pick<SearchQuery, 'type'>): boolean => q.type === 'vod';

/** The hit kind of a document: a channel broadcasting now is a live stream. */
export const hitKind = (doc: { kind: SearchDocKind; live: boolean }): SearchKind => (doc.kind === 'vod' ? 'vod' : doc.live ? 'live' : 'channel');

/** The time a query finds premieres by: VoD documents dated after it (scheduled ones) are left out. */
export const premieresBy = (q: Pick<SearchQuery, 'now'>): Date => q.now ?? new Date();
