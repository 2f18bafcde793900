// What an ended broadcast leaves in the API process: nothing. Broadcasts that start, take viewers and end (DELETE of
// the WHIP session) are run one after another; afterwards the workers and their WebRtcServer objects in this process
// hold no transport, and the heap after a collection is back near where it began.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { channelWithKey, startTestApi, type TestApi } from '../helpers/api.ts';
import { mib, settledMemory } from '../helpers/fuzz/common.ts';
import { withKey } from '../helpers/webrtc.ts';
import { whepOffer } from '../helpers/whep-offer.ts';

const WHIP_OFFER = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/sdp/chromium-whip.sdp'), 'utf8');

type Ctx = { api: TestApi; key: string };
const t = suite<Ctx>('SFU memory');

t.before(async (ctx) => {
  // no recorder (it attaches transports of its own); generous WHEP caps: the test opens many viewers from one address
  ctx.api = await startTestApi({ RECORDER_EMBEDDED: 'false', RTMP_ENABLED: 'false', WHEP_OFFERS_PER_MINUTE: '100000', WHEP_SESSIONS_PER_ADDRESS: '100000' });
  const owner = await ctx.api.client().signUp('Memory');
  ctx.key = await channelWithKey(owner, 'ended');
});
t.after(async (ctx) => {
  await ctx.api?.stop();
});

const post = (api: TestApi, url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(api.base + url, { method: 'POST', headers: { 'content-type': 'application/sdp', ...headers }, body });

/** One broadcast: WHIP publish, `viewers` WHEP sessions, then the publisher's DELETE ends it with the viewers still on. */
async function broadcast(api: TestApi, key: string, viewers: number): Promise<void> {
  const pub = await post(api, '/whip/ended', WHIP_OFFER, withKey(key));
  assert.is(pub.status, 201, await pub.text());
  for (let i = 0; i < viewers; i++) {
    const view = await post(api, '/whep/ended', whepOffer());
    assert.is(view.status, 201, await view.text());
  }
  const del = await fetch(api.base + pub.headers.get('location')!, { method: 'DELETE', headers: withKey(key) });
  assert.is(del.status, 200);
}

t('broadcasts that ended with viewers on leave no WebRTC transport behind, in the workers or in this process', async ({ api, key }) => {
  await broadcast(api, key, 1); // warm-up: code compiled, pools and caches filled
  const before = await settledMemory();
  const ROUNDS = 30;
  for (let i = 0; i < ROUNDS; i++) await broadcast(api, key, 3);
  const after = await settledMemory();
  const held = await api.sfu.pool.held();
  console.log(`${ROUNDS} broadcasts × (1 publisher + 3 viewers): heap ${mib(before.heapUsed)} → ${mib(after.heapUsed)}; held ${JSON.stringify(held)}`);
  assert.equal(held, { routers: 0, webRtcTransports: 0, webRtcTransportObjects: 0 }, 'every router and transport of the ended broadcasts is gone');
  assert.ok(after.heapUsed < before.heapUsed + 4 * 2 ** 20, `heap ${mib(before.heapUsed)} → ${mib(after.heapUsed)} after ${ROUNDS} broadcasts`);
});

t.run();
