// Benchmark: the fuzzers of tests/fuzz/ run for longer. Each parser — the HTTP API (from its OpenAPI document),
// Socket.IO chat, SDP to WHIP/WHEP, avatar uploads — gets a fresh in-process API (as its test: HTTP on PGlite and on
// PostgreSQL, the others on PGlite in memory)
// and N seconds; reported are cases run, cases per second, the failures found (each one reproducible from
// the printed seed) and the process's RSS and heap before and after (both sampled after a collection). The process
// holds the fuzzing clients as well as the API, so memory is an upper bound on the server's.
// Run: npm run bench:fuzz -- --seconds 60   (options: --only http,chat,sdp,avatar  --seed 1234)
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startTestApi, type TestApi } from '../tests/helpers/api.ts';
import { fuzzAvatars, upload, validImages } from '../tests/helpers/fuzz/avatar.ts';
import { chatWorld, fuzzChat } from '../tests/helpers/fuzz/chat.ts';
import { capturingLogger, mib, Rng, settledMemory, watchProcess, type Memory } from '../tests/helpers/fuzz/common.ts';
import { fuzzHttp, seedWorld } from '../tests/helpers/fuzz/http.ts';
import { fuzzSdp, SDP_FUZZ_ENV, sdpWorld } from '../tests/helpers/fuzz/sdp.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '30' }, only: { type: 'string', default: 'http,chat,sdp,avatar' }, seed: { type: 'string' } } });
const SECONDS = Number(values.seconds);
const seed = values.seed ? Number(values.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;

type Row = { parser: string; cases: number; seconds: number; failures: number; errors: number; before: Memory; after: Memory };

/** Runs one parser's fuzzer against a fresh API; `run` returns cases and failures. */
async function bench(parser: string, env: Record<string, string>, db: 'pglite' | 'postgres', run: (api: TestApi, rng: Rng) => Promise<{ cases: number; failures: number; close?: () => Promise<void> }>): Promise<Row> {
  const capture = capturingLogger('warn');
  const watch = watchProcess();
  const api = await startTestApi(env, { db, log: capture.log });
  try {
    const before = await settledMemory();
    const started = Date.now();
    const r = await run(api, new Rng(seed));
    const seconds = (Date.now() - started) / 1000;
    await r.close?.();
    const after = await settledMemory();
    const row = { parser, cases: r.cases, seconds, failures: r.failures + watch.problems.length, errors: capture.errors().length, before, after };
    console.log(`${parser}: ${r.cases} cases in ${seconds.toFixed(1)} s (${(r.cases / seconds).toFixed(0)}/s), ${row.failures} failures, ${row.errors} error log lines, RSS ${mib(before.rss)} → ${mib(after.rss)}, heap ${mib(before.heapUsed)} → ${mib(after.heapUsed)}`);
    return row;
  } finally {
    watch.stop();
    await api.stop();
  }
}

const parsers: Record<string, () => Promise<Row>> = {
  http: async () => {
    const run = (db: 'pglite' | 'postgres') =>
      bench(`HTTP API (OpenAPI operations × 3 roles), ${db === 'pglite' ? 'PGlite' : 'PostgreSQL'}`, {}, db, async (api, rng) => {
        const r = await fuzzHttp(api, await seedWorld(api), rng, SECONDS);
        return { cases: r.cases, failures: r.failures.length };
      });
    rows.push(await run('pglite'));
    return run('postgres');
  },
  chat: () =>
    bench('Socket.IO chat events', {}, 'pglite', async (api, rng) => {
      const w = await chatWorld(api);
      const r = await fuzzChat(api, w.stranger, w.slug, rng, SECONDS, { messageId: w.messageId, userIds: [w.owner.user!.id, w.stranger.user!.id] });
      return { cases: r.cases, failures: r.failures.length };
    }),
  sdp: () =>
    bench('SDP offers to WHIP / WHEP', SDP_FUZZ_ENV, 'pglite', async (api, rng) => {
      const w = await sdpWorld(api);
      const r = await fuzzSdp(w.target, rng, SECONDS);
      return { cases: r.cases, failures: r.failures.length, close: () => w.browser.close() };
    }),
  avatar: () =>
    bench('avatar uploads', {}, 'pglite', async (api, rng) => {
      const owner = await api.client().signUp('Bench Owner');
      await owner.post('/api/channels', { slug: 'fz-avatar', title: 'Faces' });
      const images = validImages();
      await upload(api, 'fz-avatar', owner, { type: 'image/png', bytes: images['image/png'] });
      const r = await fuzzAvatars(api, 'fz-avatar', owner, images, { type: 'image/png', bytes: images['image/png'] }, rng, SECONDS);
      return { cases: r.cases, failures: r.problems.length };
    }),
};

console.log(`fuzz bench: ${SECONDS} s per parser, seed ${seed} (--seed ${seed} reproduces); ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
const rows: Row[] = [];
for (const name of values.only.split(',')) {
  const run = parsers[name.trim()];
  if (!run) throw new Error(`unknown parser "${name}" (http, chat, sdp, avatar)`);
  rows.push(await run());
}
console.log('\n| parser | cases | cases/s | failures | error log lines | RSS before → after | heap before → after |\n|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.parser} | ${r.cases} | ${(r.cases / r.seconds).toFixed(0)} | ${r.failures} | ${r.errors} | ${mib(r.before.rss)} → ${mib(r.after.rss)} | ${mib(r.before.heapUsed)} → ${mib(r.after.heapUsed)} |`);
}
process.exit(0);
