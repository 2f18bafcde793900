// @db-matrix
// The first account on an empty instance becomes admin, exactly one even when sign-ups race; FIRST_USER_ADMIN=false
// leaves every sign-up a user.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { user } from '../../shared/db/index.ts';
import pg from 'pg';
import { dbTarget, startTestApi, type TestApi } from '../helpers/api.ts';

/**
 * On PostgreSQL: holds back every insert into "user" (a SHARE ROW EXCLUSIVE lock lets reads through) until `n`
 * sign-ups are waiting on it, then lets them all go at once — the widest a count-then-insert race can be.
 */
async function holdInserts(api: TestApi, n: number, during: () => Promise<unknown>): Promise<unknown> {
  const blocker = new pg.Client({ connectionString: api.databaseUrl });
  await blocker.connect();
  try {
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE "user" IN SHARE ROW EXCLUSIVE MODE');
    const running = during();
    const until = Date.now() + 20_000;
    for (;;) {
      await blocker.query('select pg_stat_clear_snapshot()'); // activity is otherwise read once per transaction
      const { rows } = await blocker.query("select count(*)::int as n from pg_stat_activity where datname = current_database() and state = 'active' and wait_event_type = 'Lock'");
      if (rows[0].n >= n) break;
      if (Date.now() > until) throw new Error(`only ${rows[0].n} of ${n} sign-ups reached the insert`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await blocker.query('COMMIT');
    return await running;
  } finally {
    await blocker.end();
  }
}

const t = suite('first admin');

t('concurrent first sign-ups on an empty instance make exactly one admin', async () => {
  const api = await startTestApi();
  try {
    const n = 6;
    const signUps = () => Promise.all(
      Array.from({ length: n }, (_, i) => api.client().post('/api/auth/sign-up/email', { name: `Racer ${i}`, email: `racer${i}@example.test`, password: 'long enough' })),
    );
    // PGlite has one connection and runs them one after another; PostgreSQL lets them overlap as far as they can
    const replies = (dbTarget === 'postgres' ? await holdInserts(api, n, signUps) : await signUps()) as Awaited<ReturnType<typeof signUps>>;
    assert.equal(replies.map((r) => r.status), replies.map(() => 200));
    const admins = await api.deps.database.db.select({ id: user.id }).from(user).where(eq(user.role, 'admin'));
    assert.is(admins.length, 1, `admins: ${admins.length}`);
    // later sign-ups stay users
    const late = await api.client().signUp('Late');
    assert.is((await late.get('/api/me')).body.role, 'user');
  } finally {
    await api.stop();
  }
});

t('with FIRST_USER_ADMIN=false the first sign-up is a user', async () => {
  const api = await startTestApi({ FIRST_USER_ADMIN: 'false' });
  try {
    const first = await api.client().signUp('First');
    assert.is((await first.get('/api/me')).body.role, 'user');
  } finally {
    await api.stop();
  }
});

t.run();
