// Durable background work in the database (the `job` table): a go-live fan-out to every follower, a webhook
// delivery. Any API process may run any job: it claims due rows with FOR UPDATE SKIP LOCKED and holds them for a
// lease, so a crashed process's jobs come back once their lease runs out. A job enqueued twice under one key runs once
// (every API process hears the same bus event; the first insert wins). A handler may finish its job in batches
// (returning a cursor to continue from) so one huge fan-out never holds a process, and a failed attempt is retried
// with exponential backoff until the kind's attempts run out. An idle process does not poll: it looks again when it
// enqueues something, when the next job it knows of is due, and at the latest every pollMs (for jobs other processes
// enqueued or left behind when they crashed).
import { and, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { job, type Db } from '../shared/db/index.ts';
import type { Logger } from '../shared/logger.ts';

export type JobRow = typeof job.$inferSelect;
/** What a handler did: finished, or one batch done with more from `cursor` on. */
export type JobResult = { done: true } | { cursor: string };
export type JobHandler = (job: JobRow) => Promise<JobResult>;
export type JobKind = {
  run: JobHandler;
  /** attempts before the job is given up (kept with its last error, done_at set) */
  maxAttempts: number;
  /** wait before retry n (1-based): backoffMs × 2^(n−1) */
  backoffMs: number;
  /** called once when the job is given up */
  gaveUp?: (job: JobRow, error: string) => Promise<void>;
};

/** How long a claimed job is a process's own before another may take it. */
const LEASE_SECONDS = 60;
/** Jobs claimed per round. */
const CLAIM = 10;

export class Jobs {
  private readonly kinds = new Map<string, JobKind>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  define(kind: string, handler: JobKind) {
    this.kinds.set(kind, handler);
  }

  /** Starts looking for due jobs. */
  start() {
    this.schedule(0);
  }

  /** Adds a job unless one with this key exists; true when this call added it. */
  async enqueue(kind: string, key: string, payload: unknown, runAt = new Date()): Promise<boolean> {
    const added = await this.db.insert(job).values({ kind, key, payload, runAt }).onConflictDoNothing({ target: job.key }).returning({ id: job.id });
    if (added.length) this.wake();
    return added.length > 0;
  }

  /** Runs a round now (or right after the one under way). */
  wake() {
    if (this.closed) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.running = this.round()
        .then(() => (this.again || this.closed ? 0 : this.untilNext()))
        .catch((err) => {
          this.log.error({ err }, 'job round failed');
          return this.pollMs;
        })
        .then((wait) => {
          this.running = undefined;
          this.again = false;
          this.schedule(wait);
        });
    }, ms);
  }

  private async round() {
    for (;;) {
      const claimed = await this.claim();
      await Promise.all(claimed.map((j) => this.run(j)));
      if (claimed.length < CLAIM || this.closed) return;
    }
  }

  /** ms until the next job of ours is due (a retry's backoff, a lease running out), at most pollMs. */
  private async untilNext(): Promise<number> {
    if (!this.kinds.size) return this.pollMs;
    const [row] = await this.db
      .select({ next: sql<Date | string | null>`min(greatest(${job.runAt}, coalesce(${job.lockedUntil}, ${job.runAt})))` })
      .from(job)
      .where(and(isNull(job.doneAt), inArray(job.kind, [...this.kinds.keys()])));
    if (!row?.next) return this.pollMs;
    return Math.min(this.pollMs, Math.max(0, new Date(row.next).getTime() - Date.now()));
  }

  private async claim(): Promise<JobRow[]> {
    if (!this.kinds.size) return [];
    const due = this.db
      .select({ id: job.id })
      .from(job)
      .where(and(isNull(job.doneAt), lte(job.runAt, sql`now()`), or(isNull(job.lockedUntil), lt(job.lockedUntil, sql`now()`)), inArray(job.kind, [...this.kinds.keys()])))
      .orderBy(job.runAt)
      .limit(CLAIM)
      .for('update', { skipLocked: true });
    return this.db
      .update(job)
      .set({ lockedUntil: sql`now() + make_interval(secs => ${LEASE_SECONDS})`, attempts: sql`${job.attempts} + 1` })
      .where(inArray(job.id, due))
      .returning();
  }

  private async run(j: JobRow) {
    const kind = this.kinds.get(j.kind)!;
    try {
      const result = await kind.run(j);
      if ('done' in result) await this.db.update(job).set({ doneAt: new Date(), lockedUntil: null, lastError: null }).where(eq(job.id, j.id));
      // one batch done: the rest at once, as a fresh attempt (a batch that fails is retried from its own cursor)
      else await this.db.update(job).set({ cursor: result.cursor, attempts: 0, lockedUntil: null, runAt: new Date() }).where(eq(job.id, j.id));
      if (!('done' in result)) this.wake();
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (j.attempts >= kind.maxAttempts) {
        this.log.warn({ job: j.id, kind: j.kind, attempts: j.attempts, error }, 'job given up');
        await this.db.update(job).set({ doneAt: new Date(), lockedUntil: null, lastError: error }).where(eq(job.id, j.id));
        await kind.gaveUp?.(j, error).catch((e) => this.log.error({ err: e }, 'job gave-up hook failed'));
      } else {
        const retryAt = new Date(Date.now() + kind.backoffMs * 2 ** (j.attempts - 1));
        this.log.debug({ job: j.id, kind: j.kind, attempts: j.attempts, retryAt, error }, 'job failed; will retry');
        await this.db.update(job).set({ runAt: retryAt, lockedUntil: null, lastError: error }).where(eq(job.id, j.id));
      }
    }
  }

  async close() {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
