// Test harness: a real API server on a loopback port with its own database (a fresh PostgreSQL database or an
// in-memory PGlite, chosen by GLINT_TEST_DB from scripts/run-tests.mjs), and cookie-keeping HTTP clients whose
// every response is checked against the OpenAPI document.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { suite, type Test } from 'uvu';
import { loadConfig, type Config } from '../../shared/config.ts';
import { openDatabase, type Database } from '../../shared/db/index.ts';
import { createLogger, type Logger } from '../../shared/logger.ts';
import type { RunningApi } from '../../server/embedded.ts';
import { OpenApiChecker } from './openapi.ts';

export const PG_ADMIN_URL = process.env.GLINT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const dbTarget = (process.env.GLINT_TEST_DB || 'pglite') as 'pglite' | 'postgres';
/** The runtime this suite runs on: a `@runtime-matrix` file runs once on each (scripts/run-tests.mjs). */
export const runtime: 'node' | 'deno' = 'Deno' in globalThis ? 'deno' : 'node';

/**
 * The API as this runtime serves it: on Node the embedded whole (SFU and recorder in process), on Deno the Deno
 * entry's API (no media plane in process). Imported on demand so a Deno run never loads mediasoup.
 */
async function startOnRuntime(config: Config, opts: { database: Database; log: Logger }): Promise<RunningApi> {
  if (runtime === 'deno') return (await import('../../server/deno-api.ts')).startDenoApi(config, opts);
  return (await import('../../server/embedded.ts')).startApi(config, opts);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A fresh, migrated database for one suite, dropped again by close(). */
export async function freshDatabase(target = dbTarget): Promise<{ database: Database; url?: string; drop(): Promise<void> }> {
  if (target === 'pglite') {
    const database = await openDatabase({});
    return { database, drop: () => database.close() };
  }
  const name = `glint_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString() });
  return {
    database,
    url: url.toString(),
    drop: async () => {
      await database.close();
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    },
  };
}

export type TestApi = RunningApi & { base: string; config: Config; databaseUrl: string | undefined; spec: OpenApiChecker; client(): Client; stop(): Promise<void> };

/**
 * Budgets loose enough for suites that sign up many accounts and search in tight loops from one address; a suite
 * that tests a limit sets its own (env overrides these). The product defaults are in shared/config.ts.
 */
export const LOOSE_LIMITS: Record<string, string> = {
  AUTH_ATTEMPTS: '100000',
  SIGNUPS_PER_ADDRESS_HOUR: '100000',
  SIGNUPS_PER_HOUR: '100000',
  CHANNELS_PER_USER_HOUR: '100000',
  STREAM_KEYS_PER_USER_HOUR: '100000',
  FOLLOWS_PER_USER_MINUTE: '100000',
  SEARCHES_PER_ADDRESS_SECOND: '100000',
  UPLOAD_REQUESTS_PER_ADDRESS_MINUTE: '100000',
};

/**
 * Starts the API on a free loopback port with a fresh database; extra env entries override config. `log` replaces
 * the logger (a capturing one lets a test assert on what was logged, e.g. that no 'unhandled error' was).
 */
export async function startTestApi(env: Record<string, string> = {}, opts: { db?: 'pglite' | 'postgres'; log?: Logger; sameDatabaseAs?: TestApi } = {}): Promise<TestApi> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'glint-test-'));
  // a second API on the first one's database (as two API processes share one), left for the first one's stop to drop
  const shared = opts.sameDatabaseAs;
  const db = shared ? { database: shared.deps.database, url: shared.databaseUrl, drop: async () => undefined } : await freshDatabase(opts.db);
  const port = await freePort();
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.GLINT_TEST_LOG ?? 'silent',
    RTMP_PORT: '0', // test servers run side by side: each RTMP server on a free port
    RTC_PORT: '0', // and each SFU worker's WebRTC port a free one from the RTC range
    ...LOOSE_LIMITS,
    // suites about recordings leave their files as the recorder wrote them (and the CPU to the broadcast under test);
    // tests/vod/transcode.test.ts turns the ladder for past broadcasts back on
    TRANSCODE_PAST_BROADCASTS: 'false',
    ...(db.url ? { DATABASE_URL: db.url } : {}),
    ...env,
  });
  const api = await startOnRuntime(config, { database: db.database, log: opts.log ?? createLogger(config.logLevel) });
  const spec = await OpenApiChecker.load(api.url);
  return {
    ...api,
    base: api.url,
    config,
    databaseUrl: db.url,
    spec,
    client: () => new Client(api.url, spec),
    stop: async () => {
      await api.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export type Reply<T = any> = { status: number; headers: Headers; body: T; text: string };

/** A browser-like HTTP client: keeps cookies, sends Origin, checks each response against the OpenAPI document. */
export class Client {
  readonly cookies = new Map<string, string>();
  /** Responses that were not checked because their path is not in the document (should stay empty for /api). */
  readonly unchecked: string[] = [];
  user?: { id: string; email: string; name: string; role?: string };

  constructor(
    readonly base: string,
    private readonly spec: OpenApiChecker,
  ) {}

  async req<T = any>(
    method: string,
    pathname: string,
    opts: { json?: unknown; body?: BodyInit; headers?: Record<string, string>; check?: boolean } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { origin: this.base, ...opts.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.base + pathname, { method, headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim())) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    const type = res.headers.get('content-type');
    let parsed: unknown = text;
    if (type?.includes('json') && text) parsed = JSON.parse(text);
    const url = new URL(this.base + pathname);
    if (opts.check !== false && !this.spec.check(method, url.pathname, res.status, type, text === '' ? undefined : parsed)) {
      this.unchecked.push(`${method} ${url.pathname}`);
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get = <T = any>(p: string, o?: Parameters<Client['req']>[2]) => this.req<T>('GET', p, o);
  post = <T = any>(p: string, json?: unknown, o?: Parameters<Client['req']>[2]) => this.req<T>('POST', p, { ...o, json });
  patch = <T = any>(p: string, json?: unknown, o?: Parameters<Client['req']>[2]) => this.req<T>('PATCH', p, { ...o, json });
  put = <T = any>(p: string, o?: Parameters<Client['req']>[2]) => this.req<T>('PUT', p, o);
  delete = <T = any>(p: string, o?: Parameters<Client['req']>[2]) => this.req<T>('DELETE', p, o);

  /** Signs up (and so in) a new account; returns this client for chaining. */
  async signUp(name: string, email = `${name.toLowerCase().replace(/\W+/g, '-')}-${Math.random().toString(36).slice(2, 7)}@example.test`, password = 'correct horse battery') {
    const r = await this.post('/api/auth/sign-up/email', { name, email, password });
    if (r.status !== 200) throw new Error(`sign-up failed: ${r.status} ${r.text}`);
    this.user = r.body.user;
    return this;
  }
}

/** Creates a channel owned by `owner` and returns a fresh stream key for it (fails the test if either step fails). */
export async function channelWithKey(owner: Client, slug: string, title = slug): Promise<string> {
  const created = await owner.post('/api/channels', { slug, title });
  if (created.status !== 201) throw new Error(`creating channel ${slug}: ${created.status} ${created.text}`);
  const key = await owner.post(`/api/channels/${slug}/stream-keys`, { label: 'test' });
  if (key.status !== 201) throw new Error(`stream key for ${slug}: ${key.status} ${key.text}`);
  return key.body.key as string;
}

/** A suite with one API on a fresh database (`env` on top of the test defaults), stopped after it. */
export function apiSuite(name: string, env: Record<string, string> = {}): Test<{ api: TestApi }> {
  const t = suite<{ api: TestApi }>(name);
  t.before(async (ctx) => {
    ctx.api = await startTestApi(env);
  });
  t.after(async (ctx) => {
    await ctx.api?.stop();
  });
  return t;
}

/** A suite with one API, an owner signed up as `owner` and their channel `slug` with a stream key (`key`). */
export function channelSuite(name: string, opts: { owner: string; slug: string; env?: Record<string, string> }): Test<{ api: TestApi; key: string }> {
  const t = suite<{ api: TestApi; key: string }>(name);
  t.before(async (ctx) => {
    ctx.api = await startTestApi(opts.env);
    ctx.key = await channelWithKey(await ctx.api.client().signUp(opts.owner), opts.slug);
  });
  t.after(async (ctx) => {
    await ctx.api?.stop();
  });
  return t;
}
