// @db-matrix @runtime-matrix — the databases differ in what they refuse (PGlite fails on a lone surrogate PostgreSQL's driver replaces)
// Fuzz: every operation of the OpenAPI document with hostile path parameters, query strings and JSON bodies, as a
// visitor, a signed-in stranger and the owner of seeded data. GLINT_FUZZ_SECONDS sets the budget (default 7 s per
// database), GLINT_FUZZ_SEED replays a run; failures print the seed and the request.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import { capturingLogger, describe, distinctErrors, fuzzSeconds, fuzzSeed, mib, Rng, settledMemory, watchProcess, type FuzzReport } from '../helpers/fuzz/common.ts';
import { fuzzHttp, seedWorld, type World } from '../helpers/fuzz/http.ts';

type Ctx = { api: TestApi; world: World; capture: ReturnType<typeof capturingLogger>; watch: ReturnType<typeof watchProcess> };
const t = suite<Ctx>('fuzz: HTTP API');
const SECONDS = fuzzSeconds(7);

t.before(async (ctx) => {
  ctx.watch = watchProcess();
  ctx.capture = capturingLogger('warn');
  ctx.api = await startTestApi({}, { log: ctx.capture.log });
  ctx.world = await seedWorld(ctx.api);
});
t.after(async (ctx) => {
  await ctx.api?.stop();
  ctx.watch?.stop();
});

t('every operation answers hostile input with a 4xx problem (never a 5xx), and no one changes the owner\'s rows by it', async ({ api, world, capture, watch }) => {
  const seed = fuzzSeed();
  const rng = new Rng(seed);
  const before = await settledMemory(2, 100);
  const started = Date.now();
  const result = await fuzzHttp(api, world, rng, SECONDS);
  const after = await settledMemory();
  const report: FuzzReport = { parser: 'http', seed, cases: result.cases, seconds: (Date.now() - started) / 1000, failures: result.failures, before, after };
  console.log(describe(report));
  if (result.undocumented.size) console.log(`replies the OpenAPI document does not describe (not failures):\n  ${[...result.undocumented].slice(0, 40).join('\n  ')}`);
  const unhandled = distinctErrors(capture.errors());
  if (unhandled.length) console.log(`error-level log lines, one per distinct message and place:\n${unhandled.join('\n')}`);
  assert.ok(result.cases > 50, `ran ${result.cases} cases`);
  if (result.failures.length) console.log(`failures:\n  ${result.failures.join("\n  ")}`);
  assert.equal(result.failures.slice(0, 20), [], `${result.failures.length} failing requests (first 20 shown); seed ${seed}`);
  assert.equal(unhandled.slice(0, 10), [], `error-level log lines (seed ${seed})`);
  if (watch.problems.length) console.log(`process problems:\n${watch.problems.slice(0, 5).join('\n')}`);
  assert.equal(watch.problems, [], 'no unhandled rejection or uncaught exception');
  // memory: no global.gc here, so only a leak of real size shows (the run allocates tens of MiB of bodies)
  assert.ok(after.heapUsed < before.heapUsed + 32 * 2 ** 20, `heap ${mib(before.heapUsed)} → ${mib(after.heapUsed)}`);
  assert.ok(after.rss < before.rss + 128 * 2 ** 20, `RSS ${mib(before.rss)} → ${mib(after.rss)}`);
  const res = await fetch(`${api.base}/api/channels/${world.ownerSlug}`);
  assert.is(res.status, 200, 'the API still serves the owner\'s channel');
});

t.run();
