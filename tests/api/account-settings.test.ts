// @db-matrix
// @runtime-matrix
// Account settings over HTTP (name, password, deletion with its channels) and public profiles (never an email).
import * as assert from 'uvu/assert';
import { apiSuite, channelWithKey } from '../helpers/api.ts';

const t = apiSuite('account settings and profiles');

t('POST /api/auth/update-user changes the display name everyone sees', async ({ api }) => {
  const c = await api.client().signUp('Nell');
  const r = await c.post('/api/auth/update-user', { name: 'Nell Q.' });
  assert.is(r.status, 200);
  assert.is((await c.get('/api/me')).body.name, 'Nell Q.');
  assert.is((await api.client().get(`/api/profiles/${c.user!.id}`)).body.name, 'Nell Q.');
});

t('POST /api/auth/change-password needs the current password (400 INVALID_PASSWORD otherwise)', async ({ api }) => {
  const c = await api.client().signUp('Pia');
  const email = c.user!.email;
  const wrong = await c.post('/api/auth/change-password', { currentPassword: 'not my password', newPassword: 'a new password here' });
  assert.is(wrong.status, 400);
  assert.is(wrong.body.code, 'INVALID_PASSWORD');
  const ok = await c.post('/api/auth/change-password', { currentPassword: 'correct horse battery', newPassword: 'a new password here', revokeOtherSessions: true });
  assert.is(ok.status, 200);
  assert.is((await c.get('/api/me')).status, 200, 'this session stays signed in');
  assert.is((await api.client().post('/api/auth/sign-in/email', { email, password: 'correct horse battery' })).status, 401);
  assert.is((await api.client().post('/api/auth/sign-in/email', { email, password: 'a new password here' })).status, 200);
});

t('POST /api/auth/change-password is 401 signed out', async ({ api }) => {
  const r = await api.client().post('/api/auth/change-password', { currentPassword: 'x'.repeat(10), newPassword: 'y'.repeat(10) });
  assert.is(r.status, 401);
});

t('POST /api/auth/delete-user needs the password, then deletes the account and its channels', async ({ api }) => {
  const c = await api.client().signUp('Dora');
  const slug = `dora-${Math.random().toString(36).slice(2, 7)}`;
  await channelWithKey(c, slug);
  const fan = await api.client().signUp('Fan');
  assert.is((await fan.put(`/api/channels/${slug}/follow`)).status, 200);

  // better-auth alone would delete a fresh session's account with no password at all
  for (const body of [{}, { password: '' }, { password: 42 }]) {
    const none = await c.post('/api/auth/delete-user', body);
    assert.is(none.status, 400, `delete-user with ${JSON.stringify(body)}`);
    assert.is(none.body.errors?.[0]?.path, 'password');
  }
  assert.is((await api.client().get(`/api/channels/${slug}`)).status, 200, 'nothing deleted without the password');

  const wrong = await c.post('/api/auth/delete-user', { password: 'not my password' });
  assert.is(wrong.status, 400);
  assert.is(wrong.body.code, 'INVALID_PASSWORD');
  assert.is((await api.client().get(`/api/channels/${slug}`)).status, 200, 'nothing deleted yet');

  const gone = await c.post('/api/auth/delete-user', { password: 'correct horse battery' });
  assert.is(gone.status, 200);
  assert.is((await c.get('/api/me')).status, 401, 'signed out');
  assert.is((await api.client().get(`/api/channels/${slug}`)).status, 404, 'the channel went with the account');
  assert.is((await api.client().get(`/api/profiles/${c.user!.id}`)).status, 404);
  assert.is((await fan.get('/api/me/following')).body.total, 0, 'no dangling follow');
  assert.is((await api.client().post('/api/auth/sign-in/email', { email: c.user!.email, password: 'correct horse battery' })).status, 401);
});

t('GET /api/profiles/{id} shows name, join date and channels, and no email anywhere', async ({ api }) => {
  const c = await api.client().signUp('Polly');
  const slug = `polly-${Math.random().toString(36).slice(2, 7)}`;
  await channelWithKey(c, slug, 'Polly plays');
  const r = await api.client().get(`/api/profiles/${c.user!.id}`);
  assert.is(r.status, 200);
  assert.is(r.body.name, 'Polly');
  assert.ok(Date.parse(r.body.joinedAt) > 0);
  assert.equal(r.body.channels.map((ch: { slug: string }) => ch.slug), [slug]);
  assert.is(r.body.channels[0].title, 'Polly plays');
  assert.not.match(r.text, /@example\.test/, 'no email in the profile');
  assert.not.ok('email' in r.body);
});

t('GET /api/profiles/{id} is 404 for an unknown id and 400 for an overlong one', async ({ api }) => {
  assert.is((await api.client().get('/api/profiles/nobody')).status, 404);
  assert.is((await api.client().get(`/api/profiles/${'x'.repeat(100)}`)).status, 400);
});

t.run();
