// @runtime-matrix
// Fuzz: Socket.IO chat events with hostile payloads, acknowledgements and floods from a signed-in stranger and an
// anonymous socket. GLINT_FUZZ_SECONDS sets the budget (default 8 s), GLINT_FUZZ_SEED replays a run.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { capturingLogger, describe, distinctErrors, fuzzSeconds, fuzzSeed, mib, Rng, settledMemory, watchProcess } from '../helpers/fuzz/common.ts';
import { chatRows, chatStillWorks, chatWorld, fuzzChat, messagesBy } from '../helpers/fuzz/chat.ts';

type Ctx = { api: TestApi; owner: Client; stranger: Client; messageId: string; capture: ReturnType<typeof capturingLogger>; watch: ReturnType<typeof watchProcess> };
const t = suite<Ctx>('fuzz: chat');
const SECONDS = fuzzSeconds(8);
const SLUG = 'fz-chat';

t.before(async (ctx) => {
  ctx.watch = watchProcess();
  ctx.capture = capturingLogger('warn');
  // the per-user limit stays as shipped; every socket here comes from 127.0.0.1, so the per-address one is raised,
  // or the fuzzing stranger would spend the budget of the well-behaved client checked at the end
  ctx.api = await startTestApi({ CHAT_ADDRESS_MESSAGES: '100000' }, { log: ctx.capture.log });
  Object.assign(ctx, await chatWorld(ctx.api, SLUG));
});
t.after(async (ctx) => {
  await ctx.api?.stop();
  ctx.watch?.stop();
});

t('chat events with hostile payloads are refused or end the connection; the server and a fresh client carry on; refused events store nothing', async ({ api, owner, stranger, messageId, capture, watch }) => {
  const seed = fuzzSeed();
  const rng = new Rng(seed);
  const rowsBefore = await chatRows(api, SLUG);
  const before = await settledMemory(2, 100);
  const started = Date.now();
  const r = await fuzzChat(api, stranger, SLUG, rng, SECONDS, { messageId, userIds: [owner.user!.id, stranger.user!.id, 'no-such-user'] });
  const after = await settledMemory();
  console.log(describe({ parser: 'chat', seed, cases: r.cases, seconds: (Date.now() - started) / 1000, failures: r.failures, before, after }) + `; ${r.acked} acknowledged (${r.refused} refusals), ${r.disconnects} disconnects, ${r.acceptedIds.size} messages accepted`);
  const errors = distinctErrors(capture.errors());
  if (errors.length) console.log(`error-level log lines:\n${errors.join('\n')}`);
  assert.ok(r.cases > 100, `ran ${r.cases} cases`);
  assert.ok(r.refused > 0, 'the fuzzing sockets were refused');
  assert.equal(r.failures.slice(0, 20), [], `${r.failures.length} failures (seed ${seed})`);
  if (watch.problems.length) console.log(`process problems:\n${watch.problems.slice(0, 5).join('\n')}`);
  assert.equal(watch.problems, [], 'no unhandled rejection or uncaught exception');
  // a plain user may chat: the stranger's messages are its own; those it was not told of (sent without a callable
  // acknowledgement) can be no more than such sends. Everything else — the owner's message, bans, moderators,
  // modes — is as it was.
  const unseen = (await messagesBy(api, SLUG, stranger.user!.id)).filter((id) => !r.acceptedIds.has(id));
  assert.ok(unseen.length <= r.unackedSends, `${unseen.length} messages stored without a success acknowledgement, only ${r.unackedSends} sends went without one`);
  assert.is(await chatRows(api, SLUG, new Set([...r.acceptedIds, ...unseen])), rowsBefore, "apart from the stranger's own messages, the chat tables are as they were");
  const fresh = await chatStillWorks(api, owner, SLUG);
  assert.ok(fresh.ok, `a fresh client still sends and receives: ${fresh.detail}`);
  assert.ok(after.heapUsed < before.heapUsed + 32 * 2 ** 20, `heap ${mib(before.heapUsed)} → ${mib(after.heapUsed)}`);
  assert.ok(after.rss < before.rss + 128 * 2 ** 20, `RSS ${mib(before.rss)} → ${mib(after.rss)}`);
  // last, so that everything above is checked while a handler still fails on input the database refuses
  assert.equal(errors, [], `error-level log lines (seed ${seed})`);
});

t.run();
