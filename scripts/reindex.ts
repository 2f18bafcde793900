// `npm run reindex`: rebuilds search from scratch — every search_doc row from the tables, then (with MEILI_URL) the
// Meilisearch index emptied and filled again. Safe while Glint runs: changes made meanwhile reach the outbox too.
import path from 'node:path';
import { loadConfigOrExit } from '../shared/config.ts';
import { openDatabase } from '../shared/db/index.ts';
import { createSearch, reindex } from '../shared/search/index.ts';

const config = loadConfigOrExit();
// the embedded database can be open in one process only: stop Glint first on embedded defaults
const database = await openDatabase({ url: config.databaseUrl, pgliteDir: path.join(config.dataDir, 'pglite') });
try {
  const started = Date.now();
  const search = await createSearch(config, database.db);
  const { documents } = await reindex(database.db, search);
  console.log(`Reindexed ${documents} documents into ${search.kind === 'meilisearch' ? `Meilisearch (${config.meili!.url}, index ${config.meili!.index})` : 'PostgreSQL'} in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
} finally {
  await database.close();
}
