// Benchmark: GET /api/search (PostgreSQL full text + pg_trgm over search_doc) in queries per second and p99 at fixed
// concurrency, at 10k and at 100k channels + VoDs (half each) on PostgreSQL, with two baselines measured in the same
// run on the same data: the channel list's substring filter (GET /api/channels?q=, ILIKE, what search replaces) and
// a plain indexed lookup (GET /api/channels/:slug).
// Run: npm run bench:search   (options: --seconds 10 --connections 16 --sizes 10000,100000 --keep)
import os from 'node:os';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { openDatabase } from '../shared/db/index.ts';
import { startApiProcess } from './api-process.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '16' }, sizes: { type: 'string', default: '10000,100000' }, keep: { type: 'boolean', default: false } },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const SIZES = values.sizes!.split(',').map(Number);
const PG_ADMIN = process.env.GLINT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// --- synthetic catalogue: a fixed pseudo-random sequence, so every run indexes the same text ---
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)]!;
const ADJECTIVES = 'cozy late night chill epic retro speedy quiet loud lucky golden midnight sunny rainy tiny giant wild calm brave clever'.split(' ');
const NOUNS = 'stream radio runs kitchen garden arcade studio lounge workshop marathon podcast jam session tavern library cafe dungeon racing chess painting'.split(' ');
// ~2,000 made-up words give the index a realistic vocabulary beyond the words the queries use
const SYLLABLES = 'ka lo mi ra te su no vi da pe zo ri ma ku el an or is ten bel'.split(' ');
const FILLER = Array.from({ length: 2000 }, () => pick(SYLLABLES) + pick(SYLLABLES) + pick(SYLLABLES));
const CATEGORIES = 'Games,Music,Just Chatting,Art,Cooking,Science,Sports,Travel,Education,Technology,Fitness,Talk Shows,Retro,Strategy,Puzzle,Horror,Racing,Chess,Crafts,Outdoors'.split(',');
const TAGS = 'speedrun lofi chill english german coop pvp indie cozy horror music vinyl synth ambient drawing baking science coding fitness chess'.split(' ');
const sentence = (n: number) => Array.from({ length: n }, () => (rand() < 0.25 ? pick(NOUNS) : pick(FILLER))).join(' ');
const title = () => `${pick(ADJECTIVES)} ${pick(NOUNS)} ${pick(FILLER)}`.replace(/^./, (c) => c.toUpperCase());

/** Adds `channels` channels and as many VoDs (spread over them) to the database, in batches. */
async function seedCatalogue(client: pg.Client, ownerId: string, from: number, channels: number) {
  const channelIds: string[] = [];
  for (let start = 0; start < channels; start += 5000) {
    const n = Math.min(5000, channels - start);
    const ids = Array.from({ length: n }, () => randomUUID());
    channelIds.push(...ids);
    await client.query(
      `insert into channel (id, owner_id, slug, title, description, category, tags, created_at)
       select id, $2, slug, title, description, category, string_to_array(tags, ','), now() - (random() * interval '365 days')
       from unnest($1::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) as t(id, slug, title, description, category, tags)`,
      [
        ids,
        ownerId,
        ids.map((_, i) => `ch-${from + start + i}`),
        ids.map(title),
        ids.map(() => sentence(12 + Math.floor(rand() * 12))),
        ids.map(() => pick(CATEGORIES)),
        ids.map(() => Array.from({ length: Math.floor(rand() * 4) }, () => pick(TAGS)).join(',')),
      ],
    );
  }
  for (let start = 0; start < channels; start += 5000) {
    const n = Math.min(5000, channels - start);
    const ids = Array.from({ length: n }, () => randomUUID());
    await client.query(
      `insert into vod (id, channel_id, title, status, started_at, storage_prefix)
       select id, channel_id, title, 'ready', now() - (random() * interval '365 days'), 'vods/' || id
       from unnest($1::uuid[], $2::uuid[], $3::text[]) as t(id, channel_id, title)`,
      [ids, ids.map(() => pick(channelIds)), ids.map(title)],
    );
  }
  // a few live channels, as broadcasts would leave them
  await client.query(`insert into live_session (id, channel_id, source) select gen_random_uuid(), id, 'whip' from channel where id = any($1::uuid[]) and random() < 0.01`, [channelIds]);
}

/** The queries, cycled by every connection: words, two words, prefixes, typos, and filters. */
const SEARCHES = [
  'q=cozy', 'q=radio', 'q=marathon', 'q=chess', 'q=cozy%20stream', 'q=late%20night%20radio', 'q=speedrun', 'q=lofi',
  'q=str', 'q=marat', 'q=kitch', 'q=midn',
  'q=strem', 'q=maraton', 'q=podcst', 'q=libary', 'q=kitchn%20cozy',
  'q=radio&type=vod', 'q=stream&live=true', 'q=chill&category=Music', 'q=arcade&from=2026-06-01', 'category=Games&type=channel',
].map((q) => `/api/search?${q}&limit=20`);
const ILIKES = ['cozy', 'radio', 'marathon', 'chess', 'stream', 'speed', 'lofi', 'str', 'marat', 'kitch', 'midn'].map((q) => `/api/channels?q=${q}&limit=20`);

type Result = { rps: number; p50: number; p99: number; errors: number };
async function load(base: string, paths: string[]): Promise<Result> {
  const requests = paths.map((p) => ({ method: 'GET' as const, path: p }));
  await autocannon({ url: base, connections: CONNECTIONS, duration: 2, requests }); // warm-up
  const r = await autocannon({ url: base, connections: CONNECTIONS, duration: SECONDS, requests });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

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
  await client.query(`insert into "user" (id, name, email) values ('bench', 'Bench', 'bench@example.test')`);
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
      const search = await load(server.base, SEARCHES);
      const ilike = await load(server.base, ILIKES);
      const lookup = await load(server.base, ['/api/channels/ch-7']);
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
