// @db-matrix
// @runtime-matrix
// The job runner on a real database: an attempt past its kind's deadline counts as failed and frees its slot (the
// next job runs meanwhile), CONCURRENCY jobs run side by side and no more, and a run whose claim was taken over (its
// lease lost, the job claimed again elsewhere) cannot write its outcome over the new holder's.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { CONCURRENCY, Jobs, MAX_PAYLOAD_BYTES } from '../../shared/jobs.ts';
import { job, type Database } from '../../shared/db/index.ts';
import { createLogger } from '../../shared/logger.ts';
import { freshDatabase } from '../helpers/api.ts';

// the runner on kinds of the tests' own, each with whatever payload it needs
type TestJobs = Jobs<Record<string, object>>;
type Ctx = { database: Database; drop: () => Promise<void>; jobs: TestJobs[] };
const t = suite<Ctx>('jobs');

t.before(async (ctx) => {
  const db = await freshDatabase();
  ctx.database = db.database;
  ctx.drop = db.drop;
  ctx.jobs = [];
});
t.after.each(async (ctx) => {
  for (const j of ctx.jobs.splice(0)) await j.close();
});
t.after(async (ctx) => {
  await ctx.drop?.();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(get: () => Promise<T> | T, ok: (v: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  for (const started = Date.now(); ; await sleep(25)) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
  }
}
const runner = (ctx: Ctx) => {
  const jobs: TestJobs = new Jobs(ctx.database.db, createLogger('silent'), 60_000);
  ctx.jobs.push(jobs);
  return jobs;
};
const row = async (ctx: Ctx, key: string) => (await ctx.database.db.select().from(job).where(eq(job.key, key)))[0]!;

t('an attempt past its deadline fails and frees its slot; the job enqueued after it runs meanwhile', async (ctx) => {
  const jobs = runner(ctx);
  let quickRan = 0;
  jobs.define('hangs', { maxAttempts: 5, backoffMs: 60_000, timeoutMs: 500, run: () => new Promise(() => undefined) });
  jobs.define('quick', { maxAttempts: 1, backoffMs: 1, run: async () => (quickRan++, { done: true }) });
  jobs.start();
  await jobs.enqueue('hangs', 'hangs:1', {});
  await sleep(100);
  const started = Date.now();
  await jobs.enqueue('quick', 'quick:1', {});
  await until(() => quickRan, (n) => n === 1, 'the quick job');
  assert.ok(Date.now() - started < 400, 'it did not wait for the hung one');
  const hung = await until(() => row(ctx, 'hangs:1'), (r) => r.lastError !== null, 'the hung attempt to be given its deadline', 3000);
  assert.match(hung.lastError!, 'longer than 500 ms');
  assert.is(hung.doneAt, null, 'retried later');
  assert.is(hung.lockedUntil, null, 'its lease is given back');
  assert.ok(hung.runAt.getTime() > Date.now() + 30_000, 'after its backoff');
});

t(`at most ${CONCURRENCY} jobs run at once; the rest start as slots free up`, async (ctx) => {
  const jobs = runner(ctx);
  let running = 0;
  let peak = 0;
  let finished = 0;
  jobs.define('busy', {
    maxAttempts: 1,
    backoffMs: 1,
    run: async () => {
      peak = Math.max(peak, ++running);
      await sleep(200);
      running--;
      finished++;
      return { done: true };
    },
  });
  jobs.start();
  for (let i = 0; i < CONCURRENCY * 2 + 3; i++) await jobs.enqueue('busy', `busy:${i}`, {});
  await until(() => finished, (n) => n === CONCURRENCY * 2 + 3, 'every job');
  assert.is(peak, CONCURRENCY);
});

t('a run whose claim was taken over does not write its outcome over the new holder’s', async (ctx) => {
  const jobs = runner(ctx);
  let release: () => void = () => undefined;
  let started = false;
  jobs.define('stale', {
    maxAttempts: 5,
    backoffMs: 1,
    run: async () => {
      started = true;
      await new Promise<void>((r) => (release = r));
      return { done: true };
    },
  });
  jobs.start();
  await jobs.enqueue('stale', 'stale:1', {});
  await until(() => started, Boolean, 'the run to start');
  // its lease ran out and another process claimed the job again (attempt 2, its own lease)
  await ctx.database.db.update(job).set({ attempts: 2, lockedUntil: new Date(Date.now() + 60_000) }).where(eq(job.key, 'stale:1'));
  release();
  await sleep(300);
  const r = await row(ctx, 'stale:1');
  assert.is(r.doneAt, null, 'the stale run did not mark it done');
  assert.ok(r.lockedUntil, 'the new holder’s lease stands');
  assert.is(r.attempts, 2);
});

t(`a payload over ${MAX_PAYLOAD_BYTES} bytes is refused at enqueue`, async (ctx) => {
  const jobs = runner(ctx);
  jobs.define('big', { maxAttempts: 1, backoffMs: 1, run: async () => ({ done: true }) });
  const err = await jobs.enqueue('big', 'big:1', { blob: 'x'.repeat(MAX_PAYLOAD_BYTES) }).then(() => null, (e: Error) => e);
  assert.match(err?.message ?? '', 'payload');
  assert.is((await ctx.database.db.select().from(job).where(eq(job.key, 'big:1'))).length, 0);
});

t.run();
