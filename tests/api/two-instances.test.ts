// @runtime-matrix
// Two APIs in one process (as several suites start them) each keep their own accounts and sessions. On Deno a
// request could run inside the async context of an earlier request to the other API, and better-auth's
// AsyncLocalStorage then handed it that API's database: a session made on one was looked up on the other (401). The
// Deno entry runs every request in the context its server started in (server/deno-api.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runtime, startTestApi } from '../helpers/api.ts';

const t = suite(`two APIs in one process (${runtime})`);

t('each API answers with its own sessions, before and after the other one stops', async () => {
  const a = await startTestApi();
  const b = await startTestApi();
  try {
    const alice = await a.client().signUp('Alice');
    const bob = await b.client().signUp('Bob');
    for (let i = 0; i < 3; i++) {
      // interleaved: each request right after one to the other API
      assert.is((await alice.get('/api/me')).body.name, 'Alice');
      assert.is((await bob.get('/api/me')).body.name, 'Bob');
      assert.is((await bob.post('/api/channels', { slug: `bob-${i}`, title: 'Bob' })).status, 201, 'a state change on B with B’s session');
    }
    await a.stop();
    assert.is((await bob.get('/api/me')).status, 200, 'B goes on when A has closed its database');
    assert.is((await b.client().signUp('Carol')).user?.name, 'Carol');
  } finally {
    await a.stop().catch(() => undefined);
    await b.stop();
  }
});

t.run();
