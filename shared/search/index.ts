// Search over channels, live streams and VoDs: one interface, two implementations chosen here from config —
// PostgreSQL full text + pg_trgm over search_doc (the default, embedded or not) or Meilisearch (MEILI_URL).
import { asc, sql } from 'drizzle-orm';
import type { Config } from '../config.ts';
import { searchDoc, type Db } from '../db/index.ts';
import { docColumns, type Search, type SearchDoc } from './contract.ts';

export * from './contract.ts';

/** The one place that picks the implementation. */
export async function createSearch(config: Config, db: Db): Promise<Search> {
  if (config.meili) {
    const { MeiliSearch } = await import('./MeiliSearch.ts');
    return MeiliSearch.create(config.meili);
  }
  const { PostgresSearch } = await import('./PostgresSearch.ts');
  return new PostgresSearch(db);
}

/**
 * Rebuilds every document from the tables (in one transaction, so searches never see it half done), then empties the
 * index and sends it every document in batches. Changes made meanwhile also reach the outbox and are applied after.
 */
export async function reindex(db: Db, search: Search, batch = 1000): Promise<{ documents: number }> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`delete from search_doc`);
    await tx.execute(sql`delete from search_word`); // the search_doc trigger fills it again
    await tx.execute(sql`select search_refresh_channels(null, false)`);
    await tx.execute(sql`select search_refresh_vods(null, null, false)`);
  });
  await search.reset();
  let documents = 0;
  let after: { kind: string; refId: string } | undefined;
  for (;;) {
    const rows: SearchDoc[] = await db
      .select(docColumns)
      .from(searchDoc)
      .where(after ? sql`(${searchDoc.kind}, ${searchDoc.refId}) > (${after.kind}, ${after.refId}::uuid)` : undefined)
      .orderBy(asc(searchDoc.kind), asc(searchDoc.refId))
      .limit(batch);
    if (rows.length === 0) break;
    await search.apply(rows, []);
    documents += rows.length;
    after = rows.at(-1)!;
  }
  return { documents };
}
