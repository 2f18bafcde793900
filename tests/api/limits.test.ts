// @runtime-matrix
// The API's own writes and searches have budgets per user and per address (and searches a cap in total); a refusal
// is a 429 problem with Retry-After, and one user's or address's refusal leaves the others alone.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { createApp } from '../../api/app.ts';
import { startTestApi, type Client, type Reply, type TestApi } from '../helpers/api.ts';

const t = suite<{ api: TestApi; owner: Client; other: Client }>('limits');

t.before(async (ctx) => {
  ctx.api = await startTestApi({
    TRUSTED_PROXIES: 'loopback',
    CHANNELS_PER_USER_HOUR: '2',
    STREAM_KEYS_PER_USER_HOUR: '2',
    FOLLOWS_PER_USER_MINUTE: '3',
    SEARCHES_PER_ADDRESS_SECOND: '3',
  });
  ctx.owner = await ctx.api.client().signUp('Owner');
  ctx.other = await ctx.api.client().signUp('Other');
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

function isLimited(r: Reply, minSeconds = 1) {
  assert.is(r.status, 429, `${r.status} ${r.text.slice(0, 200)}`);
  assert.is(r.headers.get('content-type'), 'application/problem+json');
  assert.ok(Number(r.headers.get('retry-after')) >= minSeconds, `Retry-After: ${r.headers.get('retry-after')}`);
}

t('POST /api/channels past CHANNELS_PER_USER_HOUR is 429; another user may still create', async ({ owner, other }) => {
  for (const slug of ['lim-one', 'lim-two']) assert.is((await owner.post('/api/channels', { slug, title: slug })).status, 201);
  isLimited(await owner.post('/api/channels', { slug: 'lim-three', title: 'three' }), 60);
  assert.is((await owner.get('/api/channels/lim-three')).status, 404, 'not created');
  assert.is((await other.post('/api/channels', { slug: 'lim-other', title: 'other' })).status, 201);
});

t('POST /api/channels/:slug/stream-keys and …/rotate share STREAM_KEYS_PER_USER_HOUR', async ({ owner }) => {
  const first = await owner.post('/api/channels/lim-one/stream-keys', { label: 'a' });
  assert.is(first.status, 201);
  assert.is((await owner.post(`/api/channels/lim-one/stream-keys/${first.body.id}/rotate`)).status, 201);
  isLimited(await owner.post('/api/channels/lim-one/stream-keys', { label: 'b' }));
  isLimited(await owner.post(`/api/channels/lim-one/stream-keys/${first.body.id}/rotate`));
});

t('PUT/DELETE /api/channels/:slug/follow past FOLLOWS_PER_USER_MINUTE is 429', async ({ other }) => {
  assert.is((await other.put('/api/channels/lim-one/follow')).status, 200);
  assert.is((await other.delete('/api/channels/lim-one/follow')).status, 200);
  assert.is((await other.put('/api/channels/lim-one/follow')).status, 200);
  isLimited(await other.delete('/api/channels/lim-one/follow'));
  assert.is((await other.get('/api/channels/lim-one/follow')).body.following, true, 'the refused unfollow did nothing');
});

t('GET /api/search past SEARCHES_PER_ADDRESS_SECOND from one address is 429; another address is served', async ({ api }) => {
  const anon = api.client();
  const from = (a: string) => ({ headers: { 'x-forwarded-for': a } });
  for (let i = 0; i < 3; i++) assert.is((await anon.get('/api/search?q=lim', from('203.0.113.50'))).status, 200, `search ${i}`);
  isLimited(await anon.get('/api/search?q=lim', from('203.0.113.50')));
  assert.is((await anon.get('/api/search?q=lim', from('203.0.113.51'))).status, 200);
});

t('under Deno the peer the entry hands the app (env.peer) is the address per-address limits count', async ({ api }) => {
  // server/deno-api.ts passes the peer in the env, where @hono/node-server passes its IncomingMessage
  const app = createApp(api.deps);
  const from = async (peer: string) => (await app.request('/api/search?q=lim', {}, { peer })) as Response;
  for (let i = 0; i < 3; i++) assert.is((await from('198.51.100.60')).status, 200, `search ${i}`);
  assert.is((await from('198.51.100.60')).status, 429);
  assert.is((await from('198.51.100.61')).status, 200, 'another peer has its own budget');
});

t('GET /api/search past SEARCH_CONCURRENCY running at once is 503 with Retry-After', async () => {
  // on PostgreSQL, so one search can be held in the database (search_doc locked) while the next one arrives
  const api = await startTestApi({ SEARCH_CONCURRENCY: '1' }, { db: 'postgres' });
  const lock = new pg.Client({ connectionString: api.databaseUrl });
  await lock.connect();
  try {
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE search_doc IN ACCESS EXCLUSIVE MODE');
    const anon = api.client();
    const held = anon.get('/api/search?q=held');
    const until = Date.now() + 10_000;
    for (;;) {
      await lock.query('select pg_stat_clear_snapshot()');
      const { rows } = await lock.query("select count(*)::int as n from pg_stat_activity where datname = current_database() and state = 'active' and wait_event_type = 'Lock'");
      if (rows[0].n > 0) break;
      assert.ok(Date.now() < until, 'the first search reached the database');
      await new Promise((r) => setTimeout(r, 20));
    }
    const busy = await anon.get('/api/search?q=next');
    assert.is(busy.status, 503);
    assert.is(busy.headers.get('content-type'), 'application/problem+json');
    assert.is(busy.headers.get('retry-after'), '1');
    await lock.query('COMMIT');
    assert.is((await held).status, 200, 'the held search finishes');
    assert.is((await anon.get('/api/search?q=after')).status, 200, 'and its place is free again');
  } finally {
    await lock.end();
    await api.stop();
  }
});

t.run();
