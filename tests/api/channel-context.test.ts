// @runtime-matrix
// withChannel (api/channel-context.ts): the channel of a /{slug} route is loaded after validation and before the
// access check, so the answers come in the order each route gave when it loaded its channel itself.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';

const t = suite<{ api: TestApi; owner: Client; other: Client }>('channel context');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Holder');
  ctx.other = await ctx.api.client().signUp('Passerby');
  assert.is((await ctx.owner.post('/api/channels', { slug: 'held', title: 'Held' })).status, 201);
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

t('PATCH /api/channels/{slug} with a bad body is a 400 even when the channel does not exist (validate, then load)', async ({ owner }) => {
  const r = await owner.patch('/api/channels/no-such-channel', { title: 42 });
  assert.is(r.status, 400);
  assert.match(r.body.errors[0].path, /^json\.title/);
});

t('a slug longer than 64 characters is a 400 naming param.slug, not a 404', async ({ owner }) => {
  const r = await owner.get(`/api/channels/${'x'.repeat(65)}/webhooks`);
  assert.is(r.status, 400);
  assert.match(r.body.errors[0].path, /^param\.slug/);
});

t('a missing channel is a 404 before the caller is asked to sign in (load, then check)', async ({ api }) => {
  const r = await api.client().get('/api/channels/no-such-channel/stream-keys');
  assert.is(r.status, 404);
  assert.match(r.body.detail, /no-such-channel/);
  assert.is((await api.client().get('/api/channels/held/stream-keys')).status, 401);
});

t('the rank decides: the owner may, another user is refused with the rule\'s message', async ({ owner, other }) => {
  assert.is((await owner.get('/api/channels/held/webhooks')).status, 200);
  const r = await other.get('/api/channels/held/webhooks');
  assert.is(r.status, 403);
  assert.is(r.body.detail, 'Only the channel owner can manage its webhooks and subscriptions.');
});

t.run();
