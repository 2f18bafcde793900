// @db-matrix
// @runtime-matrix
// Each role against each route: anonymous, a signed-in user who is not the owner, the owner, a moderator, an admin.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';

type Role = 'anonymous' | 'user' | 'owner' | 'moderator' | 'admin';
const ROLES: Role[] = ['anonymous', 'user', 'owner', 'moderator', 'admin'];
type Ctx = { api: TestApi; as: Record<Role, Client>; n: number };

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** A route, how to prepare a fresh target for it, how to call it, and the status each role must get. */
type Case = {
  name: string;
  expect: Record<Role, number>;
  call(c: Client, target: { slug: string; keyId: string; userId: string }): ReturnType<Client['req']>;
  /** The call needs a throwaway account to act on. */
  victim?: boolean;
  /** For refused calls: proves nothing changed. */
  unchanged?(owner: Client, target: { slug: string; keyId: string }): Promise<void>;
};

const allow = (s: number, o: Partial<Record<Role, number>> = {}): Record<Role, number> => ({ anonymous: s, user: s, owner: s, moderator: s, admin: s, ...o });
const ownerAdmin = (s: number) => allow(s, { anonymous: 401, user: 403, moderator: 403 });
const staff = (s: number) => allow(s, { anonymous: 401, user: 403 });
const adminOnly = (s: number) => allow(403, { anonymous: 401, admin: s });

const stillThere = async (owner: Client, t: { slug: string }) => assert.is((await owner.get(`/api/channels/${t.slug}`)).status, 200);
const keyStillListed = async (owner: Client, t: { slug: string; keyId: string }) =>
  assert.ok((await owner.get(`/api/channels/${t.slug}/stream-keys`)).body.some((k: any) => k.id === t.keyId), 'key still active');

const cases: Case[] = [
  { name: 'GET /api/channels', expect: allow(200), call: (c) => c.get('/api/channels') },
  { name: 'GET /api/channels/:slug', expect: allow(200), call: (c, t) => c.get(`/api/channels/${t.slug}`) },
  { name: 'GET /api/channels?owner=me', expect: allow(200, { anonymous: 401 }), call: (c) => c.get('/api/channels?owner=me') },
  {
    name: 'POST /api/channels',
    expect: allow(201, { anonymous: 401 }),
    call: (c, t) => c.post('/api/channels', { slug: `${t.slug}-new`, title: 'New' }),
  },
  {
    name: 'PATCH /api/channels/:slug (title)',
    expect: staff(200),
    call: (c, t) => c.patch(`/api/channels/${t.slug}`, { title: 'Edited' }),
    unchanged: async (o, t) => assert.is((await o.get(`/api/channels/${t.slug}`)).body.title, 'Target'),
  },
  {
    name: 'PATCH /api/channels/:slug (slug)',
    expect: ownerAdmin(200),
    call: (c, t) => c.patch(`/api/channels/${t.slug}`, { slug: `${t.slug}-moved` }),
    unchanged: stillThere,
  },
  { name: 'DELETE /api/channels/:slug', expect: ownerAdmin(204), call: (c, t) => c.delete(`/api/channels/${t.slug}`), unchanged: stillThere },
  {
    name: 'PUT /api/channels/:slug/avatar',
    expect: ownerAdmin(200),
    call: (c, t) => c.put(`/api/channels/${t.slug}/avatar`, { body: PNG, headers: { 'content-type': 'image/png' } }),
    unchanged: async (o, t) => assert.is((await o.get(`/api/channels/${t.slug}`)).body.avatarUrl, null),
  },
  { name: 'DELETE /api/channels/:slug/avatar', expect: staff(204), call: (c, t) => c.delete(`/api/channels/${t.slug}/avatar`) },
  { name: 'GET /api/channels/:slug/stream-keys', expect: ownerAdmin(200), call: (c, t) => c.get(`/api/channels/${t.slug}/stream-keys`) },
  { name: 'POST /api/channels/:slug/stream-keys', expect: ownerAdmin(201), call: (c, t) => c.post(`/api/channels/${t.slug}/stream-keys`, { label: 'x' }) },
  {
    name: 'POST /api/channels/:slug/stream-keys/:id/rotate',
    expect: ownerAdmin(201),
    call: (c, t) => c.post(`/api/channels/${t.slug}/stream-keys/${t.keyId}/rotate`),
    unchanged: keyStillListed,
  },
  {
    name: 'DELETE /api/channels/:slug/stream-keys/:id',
    expect: ownerAdmin(204),
    call: (c, t) => c.delete(`/api/channels/${t.slug}/stream-keys/${t.keyId}`),
    unchanged: keyStillListed,
  },
  { name: 'GET /api/me', expect: allow(200, { anonymous: 401 }), call: (c) => c.get('/api/me') },
  { name: 'GET /api/users', expect: adminOnly(200), call: (c) => c.get('/api/users') },
  {
    name: 'PATCH /api/users/:id (role)',
    expect: adminOnly(200),
    victim: true,
    call: (c, t) => c.patch(`/api/users/${t.userId}`, { role: 'user' }),
  },
];

const t = suite<Ctx>('authorization matrix');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.n = 0;
  const admin = await ctx.api.client().signUp('Root'); // first account → admin
  const moderator = await ctx.api.client().signUp('Mod');
  const promote = await admin.patch(`/api/users/${moderator.user!.id}`, { role: 'moderator' });
  assert.is(promote.status, 200);
  ctx.as = {
    anonymous: ctx.api.client(),
    user: await ctx.api.client().signUp('Stranger'),
    owner: await ctx.api.client().signUp('Owner'),
    moderator,
    admin,
  };
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

for (const k of cases) {
  t(`${k.name}: ${ROLES.map((r) => `${r} ${k.expect[r]}`).join(', ')}`, async (ctx) => {
    for (const role of ROLES) {
      // a fresh channel (with a key, and a throwaway account where the call needs one) per call, so calls cannot interfere
      const slug = `target-${++ctx.n}`;
      const created = await ctx.as.owner.post('/api/channels', { slug, title: 'Target' });
      assert.is(created.status, 201);
      const key = await ctx.as.owner.post(`/api/channels/${slug}/stream-keys`, { label: 'k' });
      const victim = k.victim ? await ctx.api.client().signUp(`Victim${ctx.n}`) : undefined;
      const target = { slug, keyId: key.body.id as string, userId: victim?.user!.id ?? '' };
      const r = await k.call(ctx.as[role], target);
      assert.is(r.status, k.expect[role], `${role}: ${k.name} → ${r.status} ${r.text.slice(0, 200)}`);
      if (r.status === 401 || r.status === 403) {
        assert.is(r.headers.get('content-type'), 'application/problem+json');
        await k.unchanged?.(ctx.as.owner, target);
      }
    }
  });
}

t('the last admin cannot demote themselves (409)', async ({ as }) => {
  const r = await as.admin.patch(`/api/users/${(await as.admin.get('/api/me')).body.id}`, { role: 'user' });
  assert.is(r.status, 409);
  assert.is((await as.admin.get('/api/me')).body.role, 'admin');
});

t('a promoted moderator sees the new role at once; a demoted one loses staff rights', async ({ api, as }) => {
  const m = await api.client().signUp('Temp');
  assert.is((await as.admin.patch(`/api/users/${m.user!.id}`, { role: 'moderator' })).status, 200);
  await as.owner.post('/api/channels', { slug: 'mod-check', title: 'T' });
  assert.is((await m.patch('/api/channels/mod-check', { title: 'by mod' })).status, 200);
  assert.is((await as.admin.patch(`/api/users/${m.user!.id}`, { role: 'user' })).status, 200);
  assert.is((await m.patch('/api/channels/mod-check', { title: 'again' })).status, 403);
});

t('every response was checked against the OpenAPI document', async ({ as }) => {
  for (const c of Object.values(as)) assert.equal(c.unchecked, []);
});

t.run();
