// Widening a race on PostgreSQL for a test: hold a table lock from a second connection until `waiters` statements of
// the API wait on a lock, then let them all go at once — what concurrent requests could do with bad luck.
import pg from 'pg';

export async function whileLocked<T>(url: string, lock: string, waiters: number, during: () => Promise<T>): Promise<T> {
  const blocker = new pg.Client({ connectionString: url });
  await blocker.connect();
  try {
    await blocker.query('BEGIN');
    await blocker.query(lock);
    const running = during();
    const until = Date.now() + 20_000;
    for (;;) {
      await blocker.query('select pg_stat_clear_snapshot()'); // activity is otherwise read once per transaction
      const { rows } = await blocker.query("select count(*)::int as n from pg_stat_activity where datname = current_database() and state = 'active' and wait_event_type = 'Lock'");
      if (rows[0].n >= waiters) break;
      if (Date.now() > until) throw new Error(`only ${rows[0].n} of ${waiters} statements came to wait on the lock`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await blocker.query('COMMIT');
    return await running;
  } finally {
    await blocker.end();
  }
}
