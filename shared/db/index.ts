// Database factory: PostgreSQL through `pg` when a URL is configured, embedded PGlite on disk otherwise.
// Both speak the same dialect, so one schema, one set of migrations (sql/) and one query code serve both.
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { runScript } from '../host/child.ts';
import { joinPath, makeDir, modifiedAt, readText, writeText } from '../host/files.ts';
import { SQL_DIR } from '../host/paths.ts';
import { schema, type Schema } from './schema.ts';

export * from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export type Database = {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Cheap round trip for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
};


export type DatabaseOptions = {
  /** PostgreSQL URL; undefined → PGlite. */
  url?: string | undefined;
  /** PGlite storage directory; undefined → in memory (tests). */
  pgliteDir?: string | undefined;
};

/** Opens the database and applies pending migrations from sql/. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const database = opts.url ? await openPostgres(opts.url) : await openPglite(opts.pgliteDir);
  try {
    await database.migrate();
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}

async function openPostgres(url: string) {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  // a connect that gets no answer (a host gone, a cut network) fails after 5 s instead of holding the request forever;
  // the API answers it 503 (shared/db/errors.ts) and the next query tries a new connection
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000 });
  // An idle connection that PostgreSQL ends (a restart, a failover, an administrator) is dropped from the pool and the
  // next query opens another; without a listener the pool's 'error' event would end the process.
  pool.on('error', () => undefined);
  const db = drizzle(pool, { schema });
  return {
    db: db as unknown as Db,
    kind: 'postgres' as const,
    ping: async () => void (await pool.query('select 1')),
    close: () => pool.end(),
    migrate: () => migrate(db, { migrationsFolder: SQL_DIR }),
  };
}

/**
 * The embedded database is a small single-user PostgreSQL: modest buffers keep an idle Glint small
 * (PGlite's defaults are shared_buffers=128MB).
 */
const PGLITE_CONF = 'shared_buffers=16MB\nwal_buffers=1MB';

/**
 * Creates a PGlite data directory and applies pending migrations in a short-lived child process. initdb grows
 * PGlite's WebAssembly memory to ~850 MB, and the migrations (one transaction; index builds, triggers, extensions) by
 * tens of MB more; WebAssembly memory never shrinks, so doing either in-process would keep that for the life of the
 * server. A marker file names the last migration applied, so a start with nothing pending spawns nothing.
 */
async function preparePgliteDir(dir: string): Promise<void> {
  const journal = JSON.parse(await readText(joinPath(SQL_DIR, 'meta', '_journal.json'))) as { entries: { tag: string }[] };
  const latest = journal.entries.at(-1)?.tag ?? '';
  const marker = joinPath(dir, 'glint-migrated');
  if ((await modifiedAt(joinPath(dir, 'PG_VERSION'))) !== undefined && (await readText(marker).catch(() => '')).trim() === latest) return;
  const modules = ['@electric-sql/pglite', '@electric-sql/pglite/contrib/pg_trgm', 'drizzle-orm/pglite', 'drizzle-orm/pglite/migrator'].map((m) => import.meta.resolve(m));
  // the arguments are spelled into the script: `node -e` and `deno eval` pass a script's argv differently
  const script = `
    const [pglite, trgm, orm, migrator, dataDir, conf, migrationsFolder] = ${JSON.stringify([...modules, dir, PGLITE_CONF, SQL_DIR])};
    const { PGlite } = await import(pglite);
    const { pg_trgm } = await import(trgm);
    const { drizzle } = await import(orm);
    const { migrate } = await import(migrator);
    const client = new PGlite({ dataDir, postgresqlconf: conf, extensions: { pg_trgm } });
    await client.waitReady;
    await migrate(drizzle(client), { migrationsFolder });
    await client.close();`;
  const r = runScript(script);
  if (!r.ok) throw new Error(`could not prepare the embedded database in ${dir}: ${r.stderr.slice(-2000)}`);
  await writeText(marker, latest + '\n');
}

async function openPglite(dir: string | undefined) {
  const { PGlite } = await import('@electric-sql/pglite');
  // pg_trgm: typo-tolerant search (sql/0006_search.sql creates the extension)
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  if (dir) {
    await makeDir(dir);
    await preparePgliteDir(dir);
  }
  const client = new PGlite({ dataDir: dir, postgresqlconf: PGLITE_CONF, extensions: { pg_trgm } });
  await client.waitReady;
  const db = drizzle(client, { schema });
  return {
    db: db as unknown as Db,
    kind: 'pglite' as const,
    ping: async () => void (await db.execute(sql`select 1`)),
    close: () => client.close(),
    migrate: () => migrate(db, { migrationsFolder: SQL_DIR }),
  };
}
