// @db-matrix
// @runtime-matrix
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { verifyStreamKey } from '../../shared/stream-keys.ts';
import { streamKey } from '../../shared/db/index.ts';

const t = suite<{ api: TestApi; owner: Client }>('stream keys');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Keeper');
  await ctx.owner.post('/api/channels', { slug: 'keys', title: 'Keys' });
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

t('POST creates a key shown once; GET lists it without the secret; verifyStreamKey accepts it', async ({ api, owner }) => {
  const r = await owner.post('/api/channels/keys/stream-keys', { label: 'OBS' });
  assert.is(r.status, 201);
  assert.match(r.body.key, /^glint_[A-Za-z0-9_-]{43}$/);
  assert.ok(r.body.key.startsWith(r.body.prefix));
  const list = await owner.get('/api/channels/keys/stream-keys');
  assert.is(list.status, 200);
  const entry = list.body.find((k: any) => k.id === r.body.id);
  assert.is(entry.label, 'OBS');
  assert.not.ok('key' in entry, 'the secret is not listed');
  assert.not.ok(list.text.includes(r.body.key), 'the secret appears nowhere in the list');
  const hit = await verifyStreamKey(api.deps.database.db, r.body.key);
  assert.is(hit?.slug, 'keys');
  assert.ok((await owner.get('/api/channels/keys/stream-keys')).body.find((k: any) => k.id === r.body.id).lastUsedAt, 'use is recorded');
});

t('only a hash of the key is stored', async ({ api, owner }) => {
  const r = await owner.post('/api/channels/keys/stream-keys', {});
  assert.is(r.body.label, 'default');
  const rows = await api.deps.database.db.select().from(streamKey);
  assert.ok(rows.length > 0);
  assert.ok(rows.every((row) => row.hash !== r.body.key && !JSON.stringify(row).includes(r.body.key)));
});

t('rotate returns a new key; the old one stops verifying at once and leaves the list', async ({ api, owner }) => {
  const old = await owner.post('/api/channels/keys/stream-keys', { label: 'rotating' });
  const seen: string[] = [];
  const off = api.deps.bus.subscribe('streamkey.revoked', (e) => seen.push(e.keyId));
  const r = await owner.post(`/api/channels/keys/stream-keys/${old.body.id}/rotate`);
  assert.is(r.status, 201);
  assert.is(r.body.label, 'rotating');
  assert.is.not(r.body.key, old.body.key);
  assert.is(await verifyStreamKey(api.deps.database.db, old.body.key), null);
  assert.is((await verifyStreamKey(api.deps.database.db, r.body.key))?.slug, 'keys');
  const ids = (await owner.get('/api/channels/keys/stream-keys')).body.map((k: any) => k.id);
  assert.ok(!ids.includes(old.body.id) && ids.includes(r.body.id));
  await new Promise((res) => setTimeout(res, 20));
  off();
  assert.equal(seen, [old.body.id], 'revocation is announced on the bus');
  assert.is((await owner.post(`/api/channels/keys/stream-keys/${old.body.id}/rotate`)).status, 404, 'a revoked key cannot be rotated');
});

t('DELETE revokes; a second DELETE is 404; an unknown or malformed id is 404/400', async ({ api, owner }) => {
  const k = await owner.post('/api/channels/keys/stream-keys', { label: 'gone' });
  assert.is((await owner.delete(`/api/channels/keys/stream-keys/${k.body.id}`)).status, 204);
  assert.is(await verifyStreamKey(api.deps.database.db, k.body.key), null);
  assert.is((await owner.delete(`/api/channels/keys/stream-keys/${k.body.id}`)).status, 404);
  assert.is((await owner.delete('/api/channels/keys/stream-keys/00000000-0000-4000-8000-000000000000')).status, 404);
  const bad = await owner.delete('/api/channels/keys/stream-keys/not-a-uuid');
  assert.is(bad.status, 400);
  assert.is(bad.headers.get('content-type'), 'application/problem+json');
});

t("a key of one channel cannot be revoked through another channel's URL", async ({ owner }) => {
  await owner.post('/api/channels', { slug: 'keys-two', title: 'Two' });
  const k = await owner.post('/api/channels/keys/stream-keys', { label: 'mine' });
  assert.is((await owner.delete(`/api/channels/keys-two/stream-keys/${k.body.id}`)).status, 404);
  assert.ok((await owner.get('/api/channels/keys/stream-keys')).body.some((x: any) => x.id === k.body.id));
});

t('verifyStreamKey refuses garbage and unknown keys', async ({ api }) => {
  for (const key of ['', 'glint_', 'glint_unknownunknownunknownunknownunknownunkno', 'x'.repeat(500)]) {
    assert.is(await verifyStreamKey(api.deps.database.db, key), null);
  }
});

t('a channel has at most 10 active keys (409 past that)', async ({ owner }) => {
  await owner.post('/api/channels', { slug: 'many-keys', title: 'Many' });
  for (let i = 0; i < 10; i++) assert.is((await owner.post('/api/channels/many-keys/stream-keys', { label: `k${i}` })).status, 201);
  const over = await owner.post('/api/channels/many-keys/stream-keys', { label: 'k10' });
  assert.is(over.status, 409);
  assert.is((await owner.get('/api/channels/many-keys/stream-keys')).body.length, 10);
});

t('every response was checked against the OpenAPI document', async ({ owner }) => {
  assert.equal(owner.unchecked, []);
});

t.run();
