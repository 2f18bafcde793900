// Search in Meilisearch (MEILI_URL) through its official client. The index is fed by the sync worker from the
// outbox (SearchSync.ts) and rebuilt by `npm run reindex`; typo tolerance and ranking are Meilisearch's own.
import { Meilisearch, MeilisearchRequestError, MeilisearchRequestTimeOutError, type Index, type Task } from 'meilisearch';
import { unavailable } from '../errors.ts';
import type { Config } from '../config.ts';
import { hitKind, listsRecordingsInProgress, premieresBy, type DocKey, type Search, type SearchDoc, type SearchQuery, type SearchResult } from './contract.ts';

/** A document as Meilisearch holds it: ids may only use letters, digits, - and _, dates are numbers to filter on. */
type MeiliDoc = {
  id: string;
  kind: SearchDoc['kind'];
  refId: string;
  channelId: string;
  channelSlug: string;
  channelTitle: string;
  title: string;
  description: string;
  category: string;
  /** category lowercased, for an exact but case-blind filter */
  categoryKey: string;
  tags: string[];
  live: boolean;
  /** milliseconds since the epoch */
  date: number;
};

/** Index settings: searchable attributes in order of importance (Meilisearch's attribute ranking rule). */
export const MEILI_SETTINGS = {
  searchableAttributes: ['title', 'channelSlug', 'tags', 'category', 'description', 'channelTitle'],
  filterableAttributes: ['kind', 'live', 'categoryKey', 'date'],
  sortableAttributes: ['date', 'live'],
};

const meiliId = (k: DocKey) => `${k.kind}-${k.refId}`;

/** A string literal in a Meilisearch filter expression. */
const literal = (s: string) => `"${s.replace(/["\\]/g, (m) => '\\' + m)}"`;

function toMeili(d: SearchDoc): MeiliDoc {
  return {
    id: meiliId(d),
    kind: d.kind,
    refId: d.refId,
    channelId: d.channelId,
    channelSlug: d.channelSlug,
    channelTitle: d.channelTitle,
    title: d.title,
    description: d.description,
    category: d.category,
    categoryKey: d.category.toLowerCase(),
    tags: d.tags,
    live: d.live,
    date: d.date.getTime(),
  };
}

/** The query's filters as a Meilisearch filter expression: every element must hold, an inner array is "any of". */
export function meiliFilter(q: SearchQuery): (string | string[])[] {
  const f: (string | string[])[] = [];
  if (q.type === 'vod') f.push('kind = "vod"');
  else if (q.type) f.push('kind = "channel"');
  if (q.type === 'live') f.push('live = true');
  // a broadcast once: its channel's live hit, not also its recording in progress
  if (!listsRecordingsInProgress(q)) f.push(['kind = "channel"', 'live = false']);
  if (q.live !== undefined) f.push(`live = ${q.live}`);
  // a scheduled premiere's document is dated at its publish time: found from then on (api/vod-visibility.ts)
  f.push(['kind = "channel"', `date <= ${premieresBy(q).getTime()}`]);
  if (q.category) f.push(`categoryKey = ${literal(q.category.toLowerCase())}`);
  if (q.from) f.push(`date >= ${q.from.getTime()}`);
  if (q.to) f.push(`date <= ${q.to.getTime()}`);
  return f;
}

export class MeiliSearch implements Search {
  readonly kind = 'meilisearch';
  #ready: Promise<void> | undefined;

  private constructor(
    private readonly client: Meilisearch,
    private readonly index: Index<MeiliDoc>,
    private readonly uid: string,
  ) {}

  /** Does not reach the server yet: the index is created on first use, so Glint starts while Meilisearch is down. */
  static create(opts: NonNullable<Config['meili']>): MeiliSearch {
    const client = new Meilisearch({ host: opts.url, apiKey: opts.apiKey, timeout: 10_000, defaultWaitOptions: { timeout: 30_000, interval: 25 } });
    return new MeiliSearch(client, client.index<MeiliDoc>(opts.index), opts.index);
  }

  /** Creates the index when missing and applies its settings; retried on the next call after a failure. */
  private ready(): Promise<void> {
    this.#ready ??= (async () => {
      const created = await this.client.createIndex(this.uid, { primaryKey: 'id' }).waitTask();
      if (created.status === 'failed' && created.error?.code !== 'index_already_exists') succeeded(created);
      succeeded(await this.index.updateSettings(MEILI_SETTINGS).waitTask());
    })().catch((err) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  async query(q: SearchQuery): Promise<SearchResult> {
    const res = await (async () => {
      await this.ready();
      return this.index.search(q.q.trim(), {
        filter: meiliFilter(q),
        limit: q.limit,
        offset: q.offset,
        showRankingScore: true,
        // without words there is no relevance to rank by: live first, then newest (as PostgresSearch does)
        ...(q.q.trim() ? {} : { sort: ['live:desc', 'date:desc'] }),
      });
    })().catch((err: unknown) => {
      // Meilisearch down or unreachable: a 503 the client can retry, not a 500
      if (err instanceof MeilisearchRequestError || err instanceof MeilisearchRequestTimeOutError) throw unavailable('Search is not answering right now; try again in a moment.');
      throw err;
    });
    return {
      total: res.estimatedTotalHits ?? res.hits.length,
      hits: res.hits.map((h) => ({
        kind: hitKind(h),
        id: h.refId,
        channel: { id: h.channelId, slug: h.channelSlug, title: h.channelTitle },
        title: h.title,
        description: h.description,
        category: h.category,
        tags: h.tags,
        live: h.live,
        date: new Date(h.date).toISOString(),
        score: h._rankingScore ?? 0,
      })),
    };
  }

  async apply(upserts: SearchDoc[], removals: DocKey[]): Promise<void> {
    await this.ready();
    // enqueued in this order, processed in this order; the outbox rows go only once both succeeded
    const tasks = [];
    if (upserts.length) tasks.push(this.index.addDocuments(upserts.map(toMeili), { primaryKey: 'id' }));
    if (removals.length) tasks.push(this.index.deleteDocuments(removals.map(meiliId)));
    for (const t of tasks) succeeded(await t.waitTask());
  }

  async reset(): Promise<void> {
    await this.ready();
    succeeded(await this.index.deleteAllDocuments().waitTask());
    succeeded(await this.index.updateSettings(MEILI_SETTINGS).waitTask());
  }
}

/** Meilisearch answers 202 to a task it then fails; a failed task must not count as done. */
function succeeded(task: Task): void {
  if (task.status !== 'succeeded') throw new Error(`Meilisearch task ${task.uid} (${task.type}) ${task.status}: ${task.error?.message ?? 'no reason given'}`);
}
