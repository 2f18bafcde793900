// @db-matrix
// @runtime-matrix
// Subscriptions: tiers, grants (the built-in provider) with start and end dates, cancellation, and what they entitle
// to — a subscriber-only recording's HLS refuses the anonymous (401) and non-subscribers (403), lets subscribers, the
// owner and admins in, and refuses again once the subscription has expired or been canceled.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { channel, liveSession, user, vod } from '../../shared/db/index.ts';
import { startTestApi, type Client, type TestApi } from '../helpers/api.ts';

type Ctx = { api: TestApi; owner: Client; fan: Client; stranger: Client; tierId: string; vodId: string };
const t = suite<Ctx>('subscriptions');

t.before(async (ctx) => {
  ctx.api = await startTestApi();
  ctx.owner = await ctx.api.client().signUp('Creator');
  ctx.fan = await ctx.api.client().signUp('Supporter');
  ctx.stranger = await ctx.api.client().signUp('Stranger');
  assert.is((await ctx.owner.post('/api/channels', { slug: 'paid', title: 'Paid show' })).status, 201);
  // a finished recording with a playlist in the store, as the recorder leaves one
  const { db } = ctx.api.deps.database;
  const [ch] = await db.select().from(channel).where(eq(channel.slug, 'paid'));
  ctx.vodId = crypto.randomUUID();
  await db.insert(vod).values({ id: ctx.vodId, channelId: ch!.id, title: 'Members stream', status: 'ready', storagePrefix: `vod/${ctx.vodId}/`, durationMs: 4000 });
  await ctx.api.deps.store.put(`vod/${ctx.vodId}/index.m3u8`, new TextEncoder().encode('#EXTM3U\n#EXT-X-ENDLIST\n'), 'application/vnd.apple.mpegurl');
  await ctx.api.deps.store.put(`vod/${ctx.vodId}/poster.jpg`, new Uint8Array([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg');
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

const playlist = (c: Client, id: string) => c.get(`/hls/vod/${id}/index.m3u8`, { check: false });

t('tiers: the owner adds, renames and archives them; anyone lists the current ones; others may not touch them', async (ctx) => {
  const { owner, fan, api } = ctx;
  const gold = await owner.post('/api/channels/paid/tiers', { name: 'Gold', priceCents: 999, currency: 'eur', perks: 'Emotes, ad-free' });
  assert.is(gold.status, 201, gold.text);
  assert.equal({ ...gold.body, id: undefined }, { id: undefined, name: 'Gold', priceCents: 999, currency: 'EUR', perks: 'Emotes, ad-free', archived: false });
  const basic = await owner.post('/api/channels/paid/tiers', { name: 'Basic', priceCents: 499 });
  assert.is(basic.body.currency, 'USD');
  assert.equal((await api.client().get('/api/channels/paid/tiers')).body.map((t: any) => t.name), ['Basic', 'Gold'], 'cheapest first, for anyone');
  assert.is((await owner.patch(`/api/channels/paid/tiers/${gold.body.id}`, { name: 'Gold+' })).body.name, 'Gold+');
  assert.is((await owner.patch(`/api/channels/paid/tiers/${gold.body.id}`, { priceCents: 1 })).status, 400, 'a price is fixed');
  assert.is((await fan.post('/api/channels/paid/tiers', { name: 'Mine', priceCents: 1 })).status, 403);
  assert.is((await owner.post('/api/channels/paid/tiers', { name: '', priceCents: -1 })).status, 400);
  assert.is((await owner.post('/api/channels/paid/tiers', { name: 'X', priceCents: 100, currency: 'dollars' })).status, 400);
  assert.is((await owner.delete(`/api/channels/paid/tiers/${basic.body.id}`)).status, 204);
  assert.equal((await api.client().get('/api/channels/paid/tiers')).body.map((t: any) => t.name), ['Gold+']);
  const grantArchived = await owner.post('/api/channels/paid/subscriptions', { userId: fan.user!.id, tierId: basic.body.id });
  assert.is(grantArchived.status, 400);
  assert.match(grantArchived.body.detail, 'archived');
  ctx.tierId = gold.body.id;
});

t('a subscriber-only VoD: anonymous 401, non-subscriber 403, subscriber, owner and admin 200; the poster stays public', async (ctx) => {
  const { owner, fan, stranger, api, vodId } = ctx;
  assert.is((await playlist(api.client(), vodId)).status, 200, 'public until marked');
  assert.is((await fan.patch(`/api/vods/${vodId}`, { visibility: 'subscribers' })).status, 403, 'only the owner marks it');
  const marked = await owner.patch(`/api/vods/${vodId}`, { visibility: 'subscribers' });
  assert.is(marked.body.subscribersOnly, true);
  const anon = await playlist(api.client(), vodId);
  assert.is(anon.status, 401);
  assert.match(anon.headers.get('content-type') ?? '', 'problem+json');
  assert.match(anon.body.detail, 'subscribers');
  assert.is((await playlist(stranger, vodId)).status, 403);
  assert.is((await api.client().get(`/hls/vod/${vodId}/seg-00000.ts`, { check: false })).status, 401, 'segments too');
  assert.is((await api.client().get(`/hls/vod/${vodId}/poster.jpg`, { check: false })).status, 200);
  assert.is((await playlist(owner, vodId)).status, 200);

  const grant = await owner.post('/api/channels/paid/subscriptions', { userId: fan.user!.id, tierId: ctx.tierId });
  assert.is(grant.status, 201, grant.text);
  assert.is(grant.body.provider, 'grant');
  assert.is(grant.body.active, true);
  const got = await playlist(fan, vodId);
  assert.is(got.status, 200);
  assert.match(got.text, '#EXTM3U');
  assert.equal((await fan.get('/api/channels/paid/subscription')).body.subscribed, true);
  assert.is((await fan.get('/api/me/subscriptions')).body[0].tier.name, 'Gold+');

  // an admin is in without a subscription
  await api.deps.database.db.update(user).set({ role: 'admin' }).where(eq(user.id, stranger.user!.id));
  assert.is((await playlist(stranger, vodId)).status, 200);
  await api.deps.database.db.update(user).set({ role: 'user' }).where(eq(user.id, stranger.user!.id));

  // canceled by the subscriber: out at once
  const canceled = await fan.delete(`/api/channels/paid/subscriptions/${grant.body.id}`);
  assert.is(canceled.status, 200);
  assert.is(canceled.body.active, false);
  assert.is((await playlist(fan, vodId)).status, 403);
  assert.is((await stranger.delete(`/api/channels/paid/subscriptions/${grant.body.id}`)).status, 403, "someone else's subscription");
});

t('grants run from their start to their end date: not yet started and expired ones do not count', async (ctx) => {
  const { owner, fan, vodId } = ctx;
  const hour = 3600_000;
  const later = await owner.post('/api/channels/paid/subscriptions', { userId: fan.user!.id, tierId: ctx.tierId, startsAt: new Date(Date.now() + hour).toISOString(), endsAt: new Date(Date.now() + 2 * hour).toISOString() });
  assert.is(later.status, 201);
  assert.is(later.body.active, false);
  assert.is((await playlist(fan, vodId)).status, 403, 'not started yet');
  const short = await owner.post('/api/channels/paid/subscriptions', { userId: fan.user!.id, tierId: ctx.tierId, endsAt: new Date(Date.now() + 1500).toISOString() });
  assert.is(short.body.active, true);
  assert.is((await playlist(fan, vodId)).status, 200);
  await new Promise((r) => setTimeout(r, 1600));
  assert.is((await playlist(fan, vodId)).status, 403, 'expired: nothing had to run for it');
  assert.equal((await fan.get('/api/channels/paid/subscription')).body, { subscribed: false, subscription: null });
  const listed = await owner.get('/api/channels/paid/subscriptions');
  assert.ok(listed.body.length >= 3);
  assert.ok(listed.body.every((s: any) => s.active === false));
});

t('bad grants are 400/404 with nothing stored; only the owner grants', async ({ owner, fan, stranger, tierId }) => {
  const before = (await owner.get('/api/channels/paid/subscriptions')).body.length;
  assert.is((await owner.post('/api/channels/paid/subscriptions', { userId: 'nobody-here', tierId })).status, 404);
  assert.is((await owner.post('/api/channels/paid/subscriptions', { userId: fan.user!.id, tierId: crypto.randomUUID() })).status, 404);
  assert.is((await owner.post('/api/channels/paid/subscriptions', { userId: fan.user!.id, tierId, startsAt: '2030-01-02T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' })).status, 400);
  assert.is((await owner.post('/api/channels/paid/subscriptions', { userId: fan.user!.id, tierId, endsAt: 'soon' })).status, 400);
  assert.is((await stranger.post('/api/channels/paid/subscriptions', { userId: stranger.user!.id, tierId })).status, 403, 'no granting yourself');
  assert.is((await owner.get('/api/channels/paid/subscriptions')).body.length, before);
});

t('the recording of a broadcast in progress follows the channel’s subscriber-only live switch, even switched on mid-broadcast', async ({ api, owner }) => {
  const { db } = api.deps.database;
  assert.is((await owner.post('/api/channels', { slug: 'dvr', title: 'DVR' })).status, 201);
  const [ch] = await db.select().from(channel).where(eq(channel.slug, 'dvr'));
  const id = crypto.randomUUID();
  await db.insert(vod).values({ id, channelId: ch!.id, title: 'On air', status: 'recording', storagePrefix: `vod/${id}/` });
  await api.deps.store.put(`vod/${id}/index.m3u8`, new TextEncoder().encode('#EXTM3U\n'), 'application/vnd.apple.mpegurl');
  assert.is((await playlist(api.client(), id)).status, 200);
  assert.is((await owner.patch('/api/channels/dvr', { subscribersOnlyLive: true })).status, 200);
  assert.is((await playlist(api.client(), id)).status, 401, 'switched on while recording');
  await db.update(vod).set({ status: 'ready' }).where(eq(vod.id, id));
  assert.is((await playlist(api.client(), id)).status, 200, 'once ended, the VoD’s own switch decides');

  // the live card's frame of a subscriber-only stream is for subscribers too
  const session = crypto.randomUUID();
  await db.insert(liveSession).values({ id: session, channelId: ch!.id, source: 'whip' });
  await api.deps.store.put(`live/${session}/preview.jpg`, new Uint8Array([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg');
  const preview = `/hls/live/${session}/preview.jpg`;
  assert.is((await api.client().get(preview, { check: false })).status, 401);
  const own = await owner.get(preview, { check: false });
  assert.is(own.status, 200);
  assert.match(own.headers.get('cache-control') ?? '', 'private');
  assert.is((await owner.patch('/api/channels/dvr', { subscribersOnlyLive: false })).status, 200);
  assert.is((await api.client().get(preview, { check: false })).status, 200, 'public again');
});

t('channel settings: subscriber-only live and VoDs are the owner’s to set', async ({ owner, api }) => {
  const mod = await api.client().signUp('Site Mod');
  await api.deps.database.db.update(user).set({ role: 'moderator' }).where(eq(user.id, mod.user!.id));
  assert.is((await mod.patch('/api/channels/paid', { title: 'Retitled by a moderator' })).status, 200);
  assert.is((await mod.patch('/api/channels/paid', { subscribersOnlyLive: true })).status, 403);
  const set = await owner.patch('/api/channels/paid', { subscribersOnlyLive: true, subscribersOnlyVods: true });
  assert.is(set.status, 200);
  assert.is(set.body.subscribersOnlyLive, true);
  assert.is(set.body.subscribersOnlyVods, true);
});

t.run();
