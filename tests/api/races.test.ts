// @db-matrix
// @runtime-matrix
// Checks that count and then write hold under concurrent requests: the last admin, the stream keys per channel.
// On PostgreSQL the writes are held back behind a table lock until every request waits (tests/helpers/pg-lock.ts).
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { user } from '../../shared/db/index.ts';
import { MAX_KEYS_PER_CHANNEL } from '../../api/routes/stream-keys.ts';
import { apiSuite, dbTarget, type TestApi } from '../helpers/api.ts';
import { whileLocked } from '../helpers/pg-lock.ts';

const t = apiSuite('races');

const race = <T>(api: TestApi, table: string, waiters: number, run: () => Promise<T>) =>
  dbTarget === 'postgres' ? whileLocked(api.databaseUrl!, `LOCK TABLE ${table} IN SHARE ROW EXCLUSIVE MODE`, waiters, run) : run();

t('two admins demoting each other at once leave one admin (PATCH /api/users/:id)', async ({ api }) => {
  const a = await api.client().signUp('Admin A');
  const b = await api.client().signUp('Admin B');
  await api.deps.database.db.update(user).set({ role: 'admin' }).where(eq(user.id, b.user!.id));
  const [ra, rb] = await race(api, '"user"', 2, () =>
    Promise.all([a.patch(`/api/users/${b.user!.id}`, { role: 'user' }), b.patch(`/api/users/${a.user!.id}`, { role: 'user' })]),
  );
  // one wins; the other is refused as the last admin (409) or, if it came second, as no longer an admin (403)
  const [first, second] = [ra.status, rb.status].sort();
  assert.ok(first === 200 && (second === 403 || second === 409), `${ra.status} ${rb.status}`);
  const admins = await api.deps.database.db.select({ id: user.id }).from(user).where(eq(user.role, 'admin'));
  assert.is(admins.length, 1);
});

t(`concurrent POST /api/channels/:slug/stream-keys never pass ${MAX_KEYS_PER_CHANNEL} active keys`, async ({ api }) => {
  const owner = await api.client().signUp('Keys');
  assert.is((await owner.post('/api/channels', { slug: 'many-keys', title: 'Keys' })).status, 201);
  for (let i = 1; i < MAX_KEYS_PER_CHANNEL; i++) assert.is((await owner.post('/api/channels/many-keys/stream-keys', { label: `k${i}` })).status, 201);
  // one place left; five ask for it at once
  const replies = await race(api, 'stream_key', 5, () => Promise.all(Array.from({ length: 5 }, (_, i) => owner.post('/api/channels/many-keys/stream-keys', { label: `race${i}` }))));
  const statuses = replies.map((r) => r.status).sort();
  assert.equal(statuses, [201, 409, 409, 409, 409], statuses.join(' '));
  assert.is((await owner.get('/api/channels/many-keys/stream-keys')).body.length, MAX_KEYS_PER_CHANNEL);
});

t.run();
