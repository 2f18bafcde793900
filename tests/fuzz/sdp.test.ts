// Fuzz: SDP offers to WHIP (with a valid stream key, so the parser and Room.publish are reached) and WHEP (against a
// room a Chromium publisher keeps live). GLINT_FUZZ_SECONDS sets the budget (default 12 s), GLINT_FUZZ_SEED replays.
// Every reply is 2xx/4xx, nothing crashes, and afterwards no mediasoup transport, producer, consumer or router is
// left beyond the live publisher's own.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type TestApi } from '../helpers/api.ts';
import type { Browser } from '../helpers/browser.ts';
import { until } from '../helpers/webrtc.ts';
import { capturingLogger, describe, distinctErrors, fuzzSeconds, fuzzSeed, mib, Rng, settledMemory, watchProcess } from '../helpers/fuzz/common.ts';
import { fuzzSdp, SDP_FUZZ_ENV, sdpWorld, type SdpTarget } from '../helpers/fuzz/sdp.ts';

type Ctx = { api: TestApi; browser: Browser; target: SdpTarget; capture: ReturnType<typeof capturingLogger>; watch: ReturnType<typeof watchProcess> };
const t = suite<Ctx>('fuzz: SDP to WHIP and WHEP');
const SECONDS = fuzzSeconds(12);

t.before(async (ctx) => {
  ctx.watch = watchProcess();
  ctx.capture = capturingLogger('warn');
  ctx.api = await startTestApi(SDP_FUZZ_ENV, { log: ctx.capture.log });
  Object.assign(ctx, await sdpWorld(ctx.api));
});
t.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.api?.stop();
  ctx.watch?.stop();
});

// every router on every worker: rooms' and their fan-out branches'
const routers = async (api: TestApi) => (await api.sfu.pool.held()).routers;

t('mutated offers get 2xx or 4xx from WHIP and WHEP, and leave no mediasoup object behind', async ({ api, target, capture, watch }) => {
  const seed = fuzzSeed();
  const rng = new Rng(seed);
  const live = api.sfu.room('fz-live')!;
  const held = await until(() => live.dump(), (d) => d.producers === 2, 5_000);
  // the publisher's transport, and its recording feed (a direct transport, a consumer per track)
  assert.equal(held, { transports: 2, producers: 2, consumers: 2 }, 'the publisher alone');
  const routersBefore = await routers(api);
  const before = await settledMemory(2, 100);
  const started = Date.now();
  const r = await fuzzSdp(target, rng, SECONDS);
  const after = await settledMemory();
  console.log(describe({ parser: 'sdp', seed, cases: r.cases, seconds: (Date.now() - started) / 1000, failures: r.failures, before, after }) + `; ${r.accepted} offers accepted (and deleted)`);
  const errors = distinctErrors(capture.errors());
  if (errors.length) console.log(`error-level log lines:\n${errors.join('\n')}`);
  const whipRoom = api.sfu.room('fz-whip');
  const left = { whipRoom: whipRoom ? await whipRoom.dump() : 'closed', liveRoom: await live.dump(), routers: await routers(api), routersBefore };
  console.log(`afterwards: ${JSON.stringify(left)}`);
  assert.ok(r.cases > 50, `ran ${r.cases} cases`);
  assert.equal(r.failures.slice(0, 20), [], `${r.failures.length} failures (first 20; seed ${seed})`);
  if (watch.problems.length) console.log(`process problems:\n${watch.problems.slice(0, 5).join('\n')}`);
  assert.equal(watch.problems, [], 'no unhandled rejection or uncaught exception');
  assert.ok(left.whipRoom === 'closed' || (left.whipRoom as { transports: number }).transports === 0, 'the WHIP channel holds nothing after its publishers were deleted');
  assert.ok(api.sfu.room('fz-live') === live, 'the live broadcast survived');
  // Viewers whose offer numbers the codecs differently are served from an edge router the room keeps for the next
  // viewer numbering them the same way (Room.routerFor): one kept edge — Chromium's own numbering — is a cache, not
  // a leak (its two pipe transports, the publisher's two tracks piped into it). More is a leak: each distinct
  // numbering an anonymous client sends must not cost a router for the life of the broadcast.
  const edge = { transports: 2, producers: 2, consumers: 2 };
  const liveNow = left.liveRoom;
  assert.ok(liveNow.transports <= held.transports + edge.transports && liveNow.producers <= held.producers + edge.producers && liveNow.consumers <= held.consumers + edge.consumers, `the live room holds its publisher and at most one edge (${JSON.stringify(liveNow)}; the publisher alone: ${JSON.stringify(held)})`);
  assert.ok(left.routers <= routersBefore + 1, `no mediasoup router left behind beyond one edge (${left.routers} routers; before: ${routersBefore})`);
  assert.ok(after.heapUsed < before.heapUsed + 32 * 2 ** 20, `heap ${mib(before.heapUsed)} → ${mib(after.heapUsed)}`);
  assert.equal(errors, [], `error-level log lines (seed ${seed})`);
});

t.run();
