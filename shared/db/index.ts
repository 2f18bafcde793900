// Database factory: PostgreSQL through `pg` when a URL is configured, embedded PGlite on disk otherwise.
// Both speak the same dialect, so one schema, one set of migrations (sql/) and one query code serve both.
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { SQL_DIR } from '../paths.ts';
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
  const pool = new pg.Pool({ connectionString: url, max: 10 });
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
 * Creates a new PGlite data directory in a short-lived child process. initdb grows PGlite's WebAssembly memory to
 * ~850 MB and WebAssembly memory never shrinks, so doing it in-process would keep that for the life of the server.
 */
function initPgliteDir(dir: string): void {
  const script = `const { PGlite } = await import(process.argv[1]); const c = new PGlite(process.argv[2]); await c.waitReady; await c.close();`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, import.meta.resolve('@electric-sql/pglite'), dir], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`could not create the embedded database in ${dir}: ${r.stderr.slice(-2000)}`);
}

async function openPglite(dir: string | undefined) {
  const { PGlite } = await import('@electric-sql/pglite');
  // pg_trgm: typo-tolerant search (sql/0006_search.sql creates the extension)
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  if (dir) {
    await mkdir(dir, { recursive: true });
    if (!existsSync(path.join(dir, 'PG_VERSION'))) initPgliteDir(dir);
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
