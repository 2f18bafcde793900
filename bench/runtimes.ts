// Benchmark (issue 15): the API on Deno against the API on Node, in the same run, on the same data.
// - cold start to ready: spawn → first 200 of /readyz, on an empty data directory / database (the first start
//   migrates it; on PGlite in a child process) and again on the one it left (a restart), several runs interleaved;
// - GET /healthz (no database: the baseline), GET /api/channels/:slug and GET /api/search at fixed concurrency, on
//   copies of one seeded catalogue, servers in the order --order gives (Node, Deno, Node again: drift shows);
// - resident memory of each, idle (ready + 5 s) and after the load, and of the embedded whole (`npm start`: the SFU
//   and the recorder in process) as a reference.
// The Deno entry runs no SFU (live media is its own Node service), so "Node" here is the API alone too: SFU_URL set
// to a port nothing answers on (server/embedded.ts then creates no SFU and forwards WHIP/WHEP there) and no recorder.
// Run: npm run bench:runtimes   (options: --seconds 10 --connections 16 --starts 5 --documents 10000
//      --order node,deno,node --databases postgres,pglite)
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import pg from 'pg';
import { openDatabase } from '../shared/db/index.ts';
import { benchDatabase, rssOfTree, startApiProcess, type ApiProcess, type Runtime } from './api-process.ts';
import { SEARCHES, seedCatalogue, seedOwner, type Queryable } from './catalogue.ts';
import { measure, type LoadResult } from './load.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    starts: { type: 'string', default: '5' },
    documents: { type: 'string', default: '10000' },
    order: { type: 'string', default: 'node,deno,node' },
    databases: { type: 'string', default: 'postgres,pglite' },
  },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const STARTS = Number(values.starts);
const DOCUMENTS = Number(values.documents);
const KINDS = values.databases!.split(',') as Kind[];

type Kind = 'postgres' | 'pglite';
type Variant = { label: string; runtime: Runtime; env: Record<string, string> };
const API_ALONE = { SFU_URL: 'http://127.0.0.1:9', RECORDER_EMBEDDED: 'false' };
const VARIANTS = {
  node: { label: 'Node, API alone', runtime: 'node', env: API_ALONE },
  deno: { label: 'Deno, API alone', runtime: 'deno', env: API_ALONE },
  embedded: { label: 'Node, embedded whole (`npm start`: + SFU, RTMP, recorder)', runtime: 'node', env: {} },
} satisfies Record<string, Variant>;
const ORDER = values.order!.split(',').map((name) => {
  if (name !== 'node' && name !== 'deno') throw new Error(`--order takes node and deno, not ${name}`);
  return VARIANTS[name];
});
// one load generator on one address measures the runtime, not the per-address search budget or the in-flight cap
const LIMITS = { SEARCHES_PER_ADDRESS_SECOND: '1000000', SEARCH_CONCURRENCY: String(Math.max(32, CONNECTIONS)) };
const KIND_LABEL: Record<Kind, string> = { postgres: 'PostgreSQL 15 (127.0.0.1)', pglite: 'PGlite (embedded, on disk)' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const int = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** Where one server keeps its data: a DATA_DIR of its own, and on PostgreSQL a database of its own. */
type Place = { env: Record<string, string>; dataDir: string; drop(): Promise<void> };

/** An empty place, or a copy of `seed` (a PostgreSQL template database, or a DATA_DIR with a PGlite directory). */
async function newPlace(kind: Kind, seed?: string): Promise<Place> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'glint-bench-rt-'));
  if (kind === 'pglite') {
    if (seed) await cp(path.join(seed, 'pglite'), path.join(dataDir, 'pglite'), { recursive: true });
    return { env: {}, dataDir, drop: () => rm(dataDir, { recursive: true, force: true }) };
  }
  const database = await benchDatabase('runtimes', { template: seed });
  return {
    env: { DATABASE_URL: database.url },
    dataDir,
    drop: async () => {
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Seeds the catalogue (DOCUMENTS channels + VoDs, half each) once per database kind; returns the seed for newPlace. */
async function seedOnce(kind: Kind): Promise<{ seed: string; drop(): Promise<void> }> {
  const fill = async (client: Queryable) => {
    await seedOwner(client);
    await seedCatalogue(client, 'bench', 0, DOCUMENTS / 2);
    // the outbox is for Meilisearch; PostgreSQL search needs none of it
    await client.query('delete from search_outbox');
    await client.query('vacuum analyze');
  };
  if (kind === 'pglite') {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'glint-bench-rt-seed-'));
    await (await openDatabase({ pgliteDir: path.join(dir, 'pglite') })).close(); // creates and migrates it
    const client = new PGlite({ dataDir: path.join(dir, 'pglite'), extensions: { pg_trgm } });
    await fill(client);
    await client.close();
    return { seed: dir, drop: () => rm(dir, { recursive: true, force: true }) };
  }
  const database = await benchDatabase('runtimes_seed');
  await (await openDatabase({ url: database.url })).close(); // migrations
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await fill(client);
  await client.end(); // a template database must have no connections
  return { seed: database.name, drop: database.drop };
}

/** Median resident memory (process and children) of `samples` readings 1 s apart. */
async function rssMedian(server: ApiProcess, samples: number) {
  const readings: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(1_000);
    readings.push(await rssOfTree(server.proc.pid!));
  }
  return median(readings);
}

/** What the benchmark's requests answer (a check that every server serves the same data). */
async function answers(base: string): Promise<string> {
  const bodies = await Promise.all(['/api/channels/ch-7', ...SEARCHES].map((p) => fetch(base + p).then((r) => r.text())));
  return bodies.join('\n');
}

const ROUTES = [
  { label: 'GET /healthz (baseline, no database)', paths: ['/healthz'] },
  { label: 'GET /api/channels/:slug', paths: ['/api/channels/ch-7'] },
  { label: `GET /api/search (${SEARCHES.length} queries: words, prefixes, typos, filters)`, paths: SEARCHES },
];

const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');
const loadAtStart = loadAverage();
const started = new Date();

// --- cold start to ready: interleaved runs, each on a fresh place, then a restart on the place it left ---
type Starts = { first: number[]; restart: number[] };
const starts = new Map<string, Starts>();
const startVariants = [VARIANTS.node, VARIANTS.deno, VARIANTS.embedded];
async function coldStart(variant: Variant, kind: Kind): Promise<{ first: number; restart: number }> {
  const place = await newPlace(kind);
  try {
    const start = () => startApiProcess({ ...variant.env, ...place.env }, { runtime: variant.runtime, dataDir: place.dataDir });
    const first = await start();
    await first.stop();
    const again = await start();
    await again.stop();
    return { first: first.readyMs, restart: again.readyMs };
  } finally {
    await place.drop();
  }
}
// one start of each first, not counted: Deno's transpile cache (DENO_DIR) and the page cache are then warm for all
for (const variant of startVariants) await coldStart(variant, KINDS[0]!);
for (let run = 0; run < STARTS; run++) {
  for (const kind of KINDS) {
    for (const variant of startVariants) {
      const t = await coldStart(variant, kind);
      const key = `${KIND_LABEL[kind]} | ${variant.label}`;
      const s = starts.get(key) ?? { first: [], restart: [] };
      s.first.push(t.first);
      s.restart.push(t.restart);
      starts.set(key, s);
      console.error(`start ${run + 1}/${STARTS} ${key}: first ${int(t.first)} ms, restart ${int(t.restart)} ms`);
    }
  }
}

// --- load and memory: Node, Deno, Node again (--order), each on its own copy of the same seeded catalogue ---
type Served = { variant: Variant; idle: number; afterLoad: number; settled: number; results: LoadResult[] };
const served = new Map<Kind, Served[]>();
const reference = new Map<Kind, number>();
let sameAnswers = true;
for (const kind of KINDS) {
  const seeding = Date.now();
  const seed = await seedOnce(kind);
  console.error(`${KIND_LABEL[kind]}: ${int(DOCUMENTS)} documents seeded in ${((Date.now() - seeding) / 1000).toFixed(1)} s`);
  let expected: string | undefined;
  try {
    const rows: Served[] = [];
    for (const variant of [...ORDER, VARIANTS.embedded]) {
      const place = await newPlace(kind, seed.seed);
      const server = await startApiProcess({ ...variant.env, ...LIMITS, ...place.env }, { runtime: variant.runtime, dataDir: place.dataDir });
      try {
        await sleep(5_000);
        const idle = await rssMedian(server, 5);
        if (variant === VARIANTS.embedded) {
          reference.set(kind, idle); // the reference is idle memory only
          continue;
        }
        const got = await answers(server.base);
        if (expected !== undefined && got !== expected) {
          sameAnswers = false;
          console.error(`${variant.label} on ${KIND_LABEL[kind]} answered differently from the first server`);
        }
        expected ??= got;
        const results: LoadResult[] = [];
        for (const route of ROUTES) results.push(await measure(server.base, route.paths, { connections: CONNECTIONS, seconds: SECONDS }));
        const afterLoad = await rssMedian(server, 3);
        await sleep(10_000);
        const settled = await rssMedian(server, 3); // does the heap give back what the load took?
        rows.push({ variant, idle, afterLoad, settled, results });
        console.error(`${KIND_LABEL[kind]} | ${variant.label}: ${results.map((r, i) => `${ROUTES[i]!.paths[0]} ${int(r.rps)} req/s p99 ${r.p99} ms`).join('; ')}; RSS idle ${mb(idle)} MB, after ${mb(afterLoad)} MB, 10 s later ${mb(settled)} MB`);
      } finally {
        await server.stop();
        await place.drop();
      }
    }
    served.set(kind, rows);
  } finally {
    await seed.drop();
  }
}

// --- report (markdown, for docs/benchmarks.md) ---
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const denoVersion = execFileSync('node_modules/.bin/deno', ['--version'], { encoding: 'utf8' }).split('\n')[0];
const runtimeName = (v: Variant) => (v.runtime === 'node' ? 'Node' : 'Deno');
// "Node (1st)", "Deno", "Node (2nd)": a runtime that runs more than once is numbered
const heads = ORDER.map((v, i) => (ORDER.filter((o) => o === v).length > 1 ? `${runtimeName(v)} (${ORDER.slice(0, i + 1).filter((o) => o === v).length})` : runtimeName(v)));
const loadRows = KINDS.flatMap((kind) =>
  ROUTES.map((route, r) => `| ${KIND_LABEL[kind]} | ${route.label} | ${served.get(kind)!.map((s) => `${int(s.results[r]!.rps)} | ${s.results[r]!.p50} / ${s.results[r]!.p99}`).join(' | ')} | ${served.get(kind)!.reduce((n, s) => n + s.results[r]!.errors, 0)} |`),
);
const memoryRows = KINDS.flatMap((kind) => [
  ...served.get(kind)!.map((s, i) => `| ${KIND_LABEL[kind]} | ${heads[i]}, API alone | ${mb(s.idle)} | ${mb(s.afterLoad)} | ${mb(s.settled)} |`),
  `| ${KIND_LABEL[kind]} | reference: ${VARIANTS.embedded.label} | ${mb(reference.get(kind)!)} | – | – |`,
]);
const startRows = [...starts].map(([key, s]) => {
  const range = (xs: number[]) => `${int(median(xs))} | ${int(Math.min(...xs))}–${int(Math.max(...xs))}`;
  return `| ${key} | ${range(s.first)} | ${range(s.restart)} |`;
});
console.log(`
Command: \`npm run bench:runtimes -- --seconds ${SECONDS} --connections ${CONNECTIONS} --starts ${STARTS} --documents ${DOCUMENTS} --order ${values.order}\` · ${started.toISOString().slice(0, 16).replace('T', ' ')}–${new Date().toISOString().slice(11, 16)} UTC
Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${denoVersion}; API and load generator (autocannon) as separate processes on the same machine; load average (1/5/15 min) ${loadAtStart} at the start, ${loadAverage()} at the end.

Cold start to ready (spawn → first 200 of /readyz), ms, ${STARTS} runs each, interleaved; "first start" on an empty data directory / database (it migrates), "restart" on the one it left:

| database | runtime | first start, median | min–max | restart, median | min–max |
|---|---|---:|---:|---:|---:|
${startRows.join('\n')}

Load: ${CONNECTIONS} connections, ${SECONDS} s after a 2 s warm-up, each server on its own copy of the same catalogue (${int(DOCUMENTS)} channels + VoDs); servers in this order, left to right; req/s | p50 / p99 ms${sameAnswers ? '; every server gave the same answers to every request sent' : '; **the servers answered differently** (see the log)'}:

| database | request | ${heads.map((h) => `${h} req/s | p50 / p99`).join(' | ')} | errors |
|---|---|${heads.map(() => '---:|---:').join('|')}|---:|
${loadRows.join('\n')}

Resident memory (process and children, MB): idle = median of 5 readings 1 s apart from ready + 5 s, on the seeded catalogue; after load = median of 3 right after the load above, then 10 s later:

| database | runtime | idle | after load | 10 s later |
|---|---|---:|---:|---:|
${memoryRows.join('\n')}
`);
