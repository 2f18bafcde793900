// @db-matrix
// @runtime-matrix
// The first account on an empty instance becomes admin, exactly one even when sign-ups race; FIRST_USER_ADMIN=false
// leaves every sign-up a user.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { user } from '../../shared/db/index.ts';
import { dbTarget, startTestApi } from '../helpers/api.ts';
import { whileLocked } from '../helpers/pg-lock.ts';

const t = suite('first admin');

t('concurrent first sign-ups on an empty instance make exactly one admin', async () => {
  const api = await startTestApi();
  try {
    const n = 6;
    const signUps = () => Promise.all(
      Array.from({ length: n }, (_, i) => api.client().post('/api/auth/sign-up/email', { name: `Racer ${i}`, email: `racer${i}@example.test`, password: 'long enough' })),
    );
    // PGlite has one connection and runs them one after another; on PostgreSQL every insert is held back until all
    // six wait on it (a SHARE ROW EXCLUSIVE lock lets reads through), the widest a count-then-insert race can be
    const replies = (dbTarget === 'postgres' ? await whileLocked(api.databaseUrl!, 'LOCK TABLE "user" IN SHARE ROW EXCLUSIVE MODE', n, signUps) : await signUps()) as Awaited<ReturnType<typeof signUps>>;
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
