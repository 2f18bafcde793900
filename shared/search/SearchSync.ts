// The outbox worker: sends what changed (search_outbox, written by triggers in the write's transaction) to the search
// index. It sends each document's current state, not the change, so replays and reordering are harmless, and deletes
// the outbox rows only after the index confirmed them: an index that is down delays search, it loses nothing.
import { inArray, sql } from 'drizzle-orm';
import { searchOutbox, type Db } from '../db/index.ts';
import { unrefTimer } from '../host/process.ts';
import type { Logger } from '../logger.ts';
import { readDocs, type DocKey, type Search } from './contract.ts';

/** One applier at a time across API processes: two could otherwise send one document's states in the wrong order. */
const LOCK_KEY = 7_310_007;

export type SearchSyncOptions = {
  /** between polls when idle (PostgresSearch needs nothing applied: it only trims the outbox, so rarely) */
  intervalMs?: number;
  batch?: number;
  /** the database can have no other client (PGlite): no cross-process lock, no transaction */
  singleProcess?: boolean;
};

export class SearchSync {
  readonly #intervalMs: number;
  readonly #batch: number;
  readonly #singleProcess: boolean;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #busy: Promise<number> = Promise.resolve(0);
  #failures = 0;
  #closed = false;

  constructor(
    private readonly db: Db,
    private readonly search: Search,
    private readonly log: Logger,
    opts: SearchSyncOptions = {},
  ) {
    this.#intervalMs = opts.intervalMs ?? (search.kind === 'postgres' ? 30_000 : 500);
    this.#batch = opts.batch ?? 500;
    this.#singleProcess = opts.singleProcess ?? false;
  }

  /** Starts polling the outbox. */
  start(): this {
    this.#schedule(0);
    return this;
  }

  /** Applies batches until the outbox is empty (tests; a reindex). Throws what the index threw. */
  async drain(): Promise<void> {
    for (;;) {
      const n = await this.#run();
      if (n === 0) return;
      if (n < 0) await new Promise((r) => setTimeout(r, 50)); // another process holds the lock
    }
  }

  /** Stops polling and waits for a batch in flight. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#busy.catch(() => {});
  }

  #schedule(ms: number) {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#run().then(
        (n) => {
          this.#failures = 0;
          this.#schedule(n > 0 ? 0 : this.#intervalMs); // a full outbox drains without pauses
        },
        (err: unknown) => {
          this.#failures++;
          const wait = Math.min(30_000, this.#intervalMs * 2 ** this.#failures);
          this.log.warn({ err, retryInMs: wait }, 'search sync failed; the outbox keeps the changes');
          this.#schedule(wait);
        },
      );
    }, ms);
    unrefTimer(this.#timer);
  }

  /** One batch, serialized within this process: rows applied, 0 when none were waiting, -1 when locked elsewhere. */
  #run(): Promise<number> {
    const next = this.#busy.catch(() => 0).then(() => this.#applyBatch());
    this.#busy = next;
    return next;
  }

  // On PostgreSQL the transaction holds the lock while the index confirms the batch (tens of milliseconds; at most
  // the client's task timeout). PGlite needs neither: only one process can open its directory, and #run already
  // serializes batches within it — and a PGlite transaction would keep ~30 MB of WebAssembly memory for good.
  async #applyBatch(): Promise<number> {
    if (this.#singleProcess) return this.#apply(this.db);
    return this.db.transaction(async (tx) => {
      const lock = (await tx.execute(sql`select pg_try_advisory_xact_lock(${LOCK_KEY}) as got`)) as unknown as { rows: { got: boolean }[] };
      if (!lock.rows[0]?.got) return -1;
      return this.#apply(tx);
    });
  }

  async #apply(q: Pick<Db, 'select' | 'delete'>): Promise<number> {
    const rows = await q
      .select({ id: searchOutbox.id, kind: searchOutbox.kind, refId: searchOutbox.refId })
      .from(searchOutbox)
      .orderBy(searchOutbox.id)
      .limit(this.#batch);
    if (rows.length === 0) return 0;
    const keys = new Map<string, DocKey>();
    for (const r of rows) keys.set(`${r.kind}:${r.refId}`, { kind: r.kind, refId: r.refId });
    const docs = await readDocs(q, [...keys.values()]);
    for (const d of docs) keys.delete(`${d.kind}:${d.refId}`);
    // what is left has no document any more: removed
    await this.search.apply(docs, [...keys.values()]);
    await q.delete(searchOutbox).where(
      inArray(
        searchOutbox.id,
        rows.map((r) => r.id),
      ),
    );
    return rows.length;
  }
}
