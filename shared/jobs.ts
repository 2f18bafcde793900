// Durable background work in the database (the `job` table): a go-live fan-out to every follower, a webhook
// delivery. Any API process may run any job: it claims due rows with FOR UPDATE SKIP LOCKED and holds them for a
// lease, so a crashed process's jobs come back once their lease runs out. A job enqueued twice under one key runs once
// (every API process hears the same bus event; the first insert wins). A handler may finish its job in batches
// (returning a cursor to continue from) so one huge fan-out never holds a process, and a failed attempt is retried
// with exponential backoff until the kind's attempts run out. An idle process does not poll: it looks again when it
// enqueues something, when the next job it knows of is due, and at the latest every pollMs (for jobs other processes
// enqueued or left behind when they crashed).
// Claimed jobs run side by side, at most CONCURRENCY at once: a slow one (a webhook receiver trickling its answer)
// holds its own slot, never the others, and the runner claims more as slots free up. A running job's lease is renewed
// while it runs, and every write after a run is made only while the claim is still this run's (same attempt number),
// so a job that outlived a lost lease cannot overwrite what its next holder did.
import { and, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { job, type Db, type WebhookEvent } from './db/index.ts';
import { unrefTimer } from './host/process.ts';
import type { Logger } from './logger.ts';

const utf8 = new TextEncoder();

export type JobRow = typeof job.$inferSelect;

/**
 * Every kind of job the API runs and the payload it carries: enqueue and the kind's handler are typed from one entry,
 * so neither side casts what the other wrote.
 */
export type JobPayloads = {
  /** a go-live fan-out to the channel's followers (api/notifications.ts) */
  'notify.live': { channelId: string; slug: string; title: string; broadcast?: string; sessionId: string; startedAt: string };
  /** one event of a channel, to become a delivery for each of its webhooks that asked for it (api/webhooks.ts) */
  'webhooks.event': { event: WebhookEvent; channelId: string; data: Record<string, unknown> };
  /** one delivery to one webhook (api/webhooks.ts) */
  'webhook.deliver': { deliveryId: string };
  /** a VoD's adaptive ladder, thumbnails and storyboard (transcoder/; run only where a transcoder is registered) */
  'vod.transcode': { vodId: string };
};
/** A kind → payload map: JobPayloads for the API, a test's own for a test's runner. */
export type PayloadMap = Record<string, object>;
/** A claimed row of one kind, its payload typed. */
export type JobOf<T> = Omit<JobRow, 'payload'> & { payload: T };

/** What a handler did: finished, or one batch done with more from `cursor` on. */
export type JobResult = { done: true } | { cursor: string };
/** Runs one attempt; `signal` aborts when the attempt is past its kind's deadline or the runner closes. */
export type JobHandler<T = unknown> = (job: JobOf<T>, signal: AbortSignal) => Promise<JobResult>;
export type JobKind<T = unknown> = {
  run: JobHandler<T>;
  /** longest an attempt may take before it counts as failed and its slot is freed (DEFAULT_TIMEOUT_MS when unset) */
  timeoutMs?: number;
  /** attempts before the job is given up (kept with its last error, done_at set) */
  maxAttempts: number;
  /** wait before retry n (1-based): backoffMs × 2^(n−1) */
  backoffMs: number;
  /** called once when the job is given up */
  gaveUp?: (job: JobOf<T>, error: string) => Promise<void>;
};

/** How long a claimed job is a process's own before another may take it (renewed while it runs). */
const LEASE_SECONDS = 60;
/** Jobs one process runs at once. */
export const CONCURRENCY = 10;
/** An attempt's deadline for kinds that set none. */
const DEFAULT_TIMEOUT_MS = 5 * 60_000;
/** Largest job payload (JSON): jobs carry ids and a few fields, never content. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

export class Jobs<P extends PayloadMap = JobPayloads> {
  private readonly kinds = new Map<string, JobKind>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  /** jobs running now, each with its run (settled when its row is written) and its abort */
  private readonly active = new Map<string, { job: JobRow; done: Promise<void>; abort: AbortController }>();
  private renewer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  define<K extends keyof P & string>(kind: K, handler: JobKind<P[K]>) {
    // the one place a stored payload meets its type: only enqueue writes rows, and it types them by the same kind
    this.kinds.set(kind, handler as JobKind);
  }

  /** Starts looking for due jobs. */
  start() {
    this.schedule(0);
  }

  /** Adds a job unless one with this key exists; true when this call added it. */
  async enqueue<K extends keyof P & string>(kind: K, key: string, payload: P[K], runAt = new Date()): Promise<boolean> {
    const size = utf8.encode(JSON.stringify(payload) ?? '').byteLength;
    if (size > MAX_PAYLOAD_BYTES) throw new Error(`a ${kind} job's payload is ${size} bytes, more than ${MAX_PAYLOAD_BYTES}`);
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

  /** Claims as many due jobs as there are free slots and starts them; their ends wake the next round. */
  private async round() {
    for (;;) {
      const free = CONCURRENCY - this.active.size;
      if (free <= 0 || this.closed) return;
      const claimed = await this.claim(free);
      for (const j of claimed) this.launch(j);
      if (claimed.length < free) return;
    }
  }

  private launch(j: JobRow) {
    const abort = new AbortController();
    const done = this.run(j, abort)
      .catch((err) => this.log.error({ err, job: j.id, kind: j.kind }, 'could not record a job’s outcome'))
      .finally(() => {
        this.active.delete(j.id);
        if (!this.active.size) clearInterval(this.renewer);
        this.wake(); // a slot is free
      });
    this.active.set(j.id, { job: j, done, abort });
    // the leases of what runs here are renewed while it runs (a third of the lease apart: two renewals may fail)
    if (this.active.size === 1) {
      clearInterval(this.renewer);
      this.renewer = setInterval(() => void this.renew().catch((err) => this.log.warn({ err }, 'could not renew job leases')), (LEASE_SECONDS * 1000) / 3);
      unrefTimer(this.renewer);
    }
  }

  /** Extends the lease of every job running here whose claim is still ours. */
  private async renew() {
    const mine = [...this.active.values()].map(({ job: j }) => this.ours(j));
    if (!mine.length) return;
    await this.db
      .update(job)
      .set({ lockedUntil: sql`now() + make_interval(secs => ${LEASE_SECONDS})` })
      .where(and(isNull(job.doneAt), or(...mine)));
  }

  /** The row as this run claimed it: a later claim (after a lost lease) has a higher attempt number. */
  private ours(j: JobRow) {
    return and(eq(job.id, j.id), eq(job.attempts, j.attempts))!;
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

  private async claim(limit: number): Promise<JobRow[]> {
    if (!this.kinds.size) return [];
    const due = this.db
      .select({ id: job.id })
      .from(job)
      .where(and(isNull(job.doneAt), lte(job.runAt, sql`now()`), or(isNull(job.lockedUntil), lt(job.lockedUntil, sql`now()`)), inArray(job.kind, [...this.kinds.keys()])))
      .orderBy(job.runAt)
      .limit(limit)
      .for('update', { skipLocked: true });
    return this.db
      .update(job)
      .set({ lockedUntil: sql`now() + make_interval(secs => ${LEASE_SECONDS})`, attempts: sql`${job.attempts} + 1` })
      .where(inArray(job.id, due))
      .returning();
  }

  private async run(j: JobRow, abort: AbortController) {
    const kind = this.kinds.get(j.kind)!;
    const timeoutMs = kind.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const overdue = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new Error(`the attempt took longer than ${timeoutMs} ms`));
      }, timeoutMs);
    });
    const attempt = Promise.resolve().then(() => kind.run(j, abort.signal));
    attempt.catch(() => undefined); // past its deadline its outcome is not waited for
    try {
      const result = await Promise.race([attempt, overdue]);
      if ('done' in result) await this.db.update(job).set({ doneAt: new Date(), lockedUntil: null, lastError: null }).where(this.ours(j));
      // one batch done: the rest at once, as a fresh attempt (a batch that fails is retried from its own cursor)
      else await this.db.update(job).set({ cursor: result.cursor, attempts: 0, lockedUntil: null, runAt: new Date() }).where(this.ours(j));
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (j.attempts >= kind.maxAttempts) {
        this.log.warn({ job: j.id, kind: j.kind, attempts: j.attempts, error }, 'job given up');
        await this.db.update(job).set({ doneAt: new Date(), lockedUntil: null, lastError: error }).where(this.ours(j));
        await kind.gaveUp?.(j, error).catch((e) => this.log.error({ err: e }, 'job gave-up hook failed'));
      } else {
        const retryAt = new Date(Date.now() + kind.backoffMs * 2 ** (j.attempts - 1));
        this.log.debug({ job: j.id, kind: j.kind, attempts: j.attempts, retryAt, error }, 'job failed; will retry');
        await this.db.update(job).set({ runAt: retryAt, lockedUntil: null, lastError: error }).where(this.ours(j));
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops claiming; asks the jobs running to stop (an interrupted attempt is retried later, by any process) and
   * waits for them and for the round under way. */
  async close() {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
    for (const a of this.active.values()) a.abort.abort();
    await Promise.all([...this.active.values()].map((a) => a.done));
    clearInterval(this.renewer);
  }
}
