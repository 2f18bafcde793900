// Database factory: PostgreSQL through `pg` when a URL is configured, embedded PGlite on disk otherwise.
// Both speak the same dialect, so one schema, one set of migrations (sql/) and one query code serve both.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdir } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
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

const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../sql');

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
  const db = drizzle(pool, { schema });
  return {
    db: db as unknown as Db,
    kind: 'postgres' as const,
    ping: async () => void (await pool.query('select 1')),
    close: () => pool.end(),
    migrate: () => migrate(db, { migrationsFolder }),
  };
}

async function openPglite(dir: string | undefined) {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  if (dir) await mkdir(dir, { recursive: true });
  const client = new PGlite(dir);
  await client.waitReady;
  const db = drizzle(client, { schema });
  return {
    db: db as unknown as Db,
    kind: 'pglite' as const,
    ping: async () => void (await db.execute(sql`select 1`)),
    close: () => client.close(),
    migrate: () => migrate(db, { migrationsFolder }),
  };
}
