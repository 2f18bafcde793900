// @db-matrix
// Renaming a live channel moves its WHEP URL with it at once: rooms are the channel's (by id), a slug only finds one.
// The publisher's WHIP resource and a viewer's WHEP resource, both under the name they were handed out with, keep
// working. Offers are crafted ones the SFU answers without the client connecting (see tests/live/back-to-back).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eq } from 'drizzle-orm';
import { channelWithKey, startTestApi, type Client, type TestApi } from '../helpers/api.ts';
import { withKey } from '../helpers/webrtc.ts';
import { whepOffer } from '../helpers/whep-offer.ts';
import { channel } from '../../shared/db/index.ts';

const whipOffer = () => whepOffer().replace(/a=recvonly/g, 'a=sendonly').replace(/a=mid:(\w+)/g, (_m, mid) => `a=mid:${mid}\r\na=ssrc:${1000 + Number(mid)} cname:x`);

type Ctx = { api: TestApi; owner: Client };
const t = suite<Ctx>('renaming a live channel');

t.before(async (ctx) => {
  ctx.api = await startTestApi({ WHIP_AUTH_FAILURES_PER_MINUTE: '1000' });
  ctx.owner = await ctx.api.client().signUp('Rename Live');
});
t.after(async (ctx) => ctx.api?.stop());

const sdp = (api: TestApi, method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
  fetch(api.base + path, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/sdp' } : {}) }, body });

t('after PATCH /api/channels/:slug renames a live channel, /whep/<new slug> plays it, /whep/<old slug> is 404, and the WHIP and WHEP resources still end', async ({ api, owner }) => {
  const key = await channelWithKey(owner, 'old-name');
  const whip = await sdp(api, 'POST', '/whip/old-name', whipOffer(), withKey(key));
  assert.is(whip.status, 201, await whip.clone().text());
  const room = api.sfu.room('old-name')!;
  const early = await sdp(api, 'POST', '/whep/old-name', whepOffer());
  assert.is(early.status, 201, 'a viewer before the rename');

  const renamed = await owner.patch('/api/channels/old-name', { slug: 'new-name' });
  assert.is(renamed.status, 200, renamed.text);
  assert.is(api.sfu.room('new-name'), room, 'the live room answers to the new name');
  assert.is(api.sfu.room('old-name'), undefined);

  const viewer = await sdp(api, 'POST', '/whep/new-name', whepOffer());
  assert.is(viewer.status, 201, await viewer.clone().text());
  assert.match(viewer.headers.get('location') ?? '', /^\/whep\/new-name\//);
  assert.is(room.viewerCount, 2);
  const old = await sdp(api, 'POST', '/whep/old-name', whepOffer());
  assert.is(old.status, 404, 'the old name is a channel that does not exist');
  assert.match((await old.json()).detail, /^Channel "old-name" was not found/);

  // resources handed out under the old name: the viewer's token and the publisher's key still end them
  assert.is((await sdp(api, 'DELETE', early.headers.get('location')!)).status, 200, 'WHEP DELETE under the old name');
  assert.is((await sdp(api, 'DELETE', viewer.headers.get('location')!)).status, 200);
  assert.is(room.viewerCount, 0);
  const location = whip.headers.get('location')!;
  assert.match(location, /^\/whip\/old-name\//);
  assert.is((await sdp(api, 'DELETE', location, undefined, withKey('wrong'))).status, 401, 'still only with its stream key');
  assert.is((await sdp(api, 'DELETE', location, undefined, withKey(key))).status, 200, 'WHIP DELETE on the resource it was given');
  assert.ok(room.isClosed);
  assert.is(room.endReason, 'DELETE');
});

t('a rename the SFU has not heard of yet (made by another API process) is found by the slug on the next WHEP offer', async ({ api, owner }) => {
  const key = await channelWithKey(owner, 'quiet-old');
  const whip = await sdp(api, 'POST', '/whip/quiet-old', whipOffer(), withKey(key));
  assert.is(whip.status, 201, await whip.clone().text());
  const room = api.sfu.room('quiet-old')!;
  // straight in the database: no channel.updated on this process's bus
  await api.deps.database.db.update(channel).set({ slug: 'quiet-new' }).where(eq(channel.slug, 'quiet-old'));
  const viewer = await sdp(api, 'POST', '/whep/quiet-new', whepOffer());
  assert.is(viewer.status, 201, await viewer.clone().text());
  assert.is(api.sfu.room('quiet-new'), room);
  assert.is((await sdp(api, 'POST', '/whep/quiet-old', whepOffer())).status, 404);
  assert.is((await sdp(api, 'DELETE', whip.headers.get('location')!, undefined, withKey(key))).status, 200);
});

t.run();
