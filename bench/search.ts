// Benchmark: GET /api/search (PostgreSQL full text + pg_trgm over search_doc) in queries per second and p99 at fixed
// concurrency, at 10k and at 100k channels + VoDs (half each) on PostgreSQL, with two baselines measured in the same
// run on the same data: the channel list's substring filter (GET /api/channels?q=, ILIKE, what search replaces) and
// a plain indexed lookup (GET /api/channels/:slug).
// Run: npm run bench:search   (options: --seconds 10 --connections 16 --sizes 10000,100000 --keep)
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../shared/db/index.ts';
import { startApiProcess } from './api-process.ts';
import { SEARCHES, seedCatalogue, seedOwner } from './catalogue.ts';
import { measure } from './load.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '16' }, sizes: { type: 'string', default: '10000,100000' }, keep: { type: 'boolean', default: false } },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const SIZES = values.sizes!.split(',').map(Number);
const PG_ADMIN = process.env.GLINT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const ILIKES = ['cozy', 'radio', 'marathon', 'chess', 'stream', 'speed', 'lofi', 'str', 'marat', 'kitch', 'midn'].map((q) => `/api/channels?q=${q}&limit=20`);

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
const rows: string[] = [];
const pgName = `glint_bench_search_${Date.now()}`;
const admin = new pg.Client({ connectionString: PG_ADMIN });
await admin.connect();
await admin.query(`CREATE DATABASE "${pgName}"`);
const url = new URL(PG_ADMIN);
url.pathname = `/${pgName}`;
try {
  await (await openDatabase({ url: url.toString() })).close(); // migrations
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await seedOwner(client);
  let have = 0;
  for (const size of SIZES) {
    const seeding = Date.now();
    await seedCatalogue(client, 'bench', have / 2, (size - have) / 2);
    have = size;
    // the outbox is for Meilisearch; PostgreSQL search needs none of it, and the worker trimming it is not what this measures
    await client.query('delete from search_outbox');
    await client.query('vacuum analyze');
    const [{ docs }] = (await client.query('select count(*)::int as docs from search_doc')).rows;
    console.error(`${fmt(docs)} documents (seeded in ${((Date.now() - seeding) / 1000).toFixed(1)} s)`);
    // one load generator on one address measures the engine, not the per-address budget or the in-flight cap
    const server = await startApiProcess({ DATABASE_URL: url.toString(), RTMP_ENABLED: 'false', SEARCHES_PER_ADDRESS_SECOND: '1000000', SEARCH_CONCURRENCY: String(Math.max(32, CONNECTIONS)) });
    try {
      const search = await measure(server.base, SEARCHES, { connections: CONNECTIONS, seconds: SECONDS });
      const ilike = await measure(server.base, ILIKES, { connections: CONNECTIONS, seconds: SECONDS });
      const lookup = await measure(server.base, ['/api/channels/ch-7'], { connections: CONNECTIONS, seconds: SECONDS });
      rows.push(`| ${fmt(docs)} | GET /api/search (22 queries: words, prefixes, typos, filters) | ${fmt(search.rps)} | ${search.p50} | ${search.p99} | ${search.errors} |`);
      rows.push(`| ${fmt(docs)} | baseline: GET /api/channels?q= (ILIKE substring, channels only) | ${fmt(ilike.rps)} | ${ilike.p50} | ${ilike.p99} | ${ilike.errors} |`);
      rows.push(`| ${fmt(docs)} | baseline: GET /api/channels/:slug (indexed lookup) | ${fmt(lookup.rps)} | ${lookup.p50} | ${lookup.p99} | ${lookup.errors} |`);
      console.error(rows.slice(-3).join('\n'));
    } finally {
      await server.stop();
    }
  }
  await client.end();
} finally {
  if (values.keep) console.error(`kept the database: ${url}`); // --keep: to look at query plans after
  else await admin.query(`DROP DATABASE IF EXISTS "${pgName}" WITH (FORCE)`);
  await admin.end();
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`
Command: \`npm run bench:search -- --seconds ${SECONDS} --connections ${CONNECTIONS} --sizes ${SIZES.join(',')}\` · ${new Date().toISOString().slice(0, 16).replace('T', ' ')}
Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; PostgreSQL 15 on 127.0.0.1; API and load generator (autocannon) as separate processes on the same machine.

| documents (channels + VoDs) | request | req/s | p50 ms | p99 ms | errors |
|---|---|---:|---:|---:|---:|
${rows.join('\n')}
`);
