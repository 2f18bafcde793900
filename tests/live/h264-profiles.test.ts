// WHIP publishers' H.264 is matched by the profile its profile-level-id denotes (RFC 6184 §8.1: profile_idc and the
// constraint flags together), as mediasoup matches it, not by its first bytes: GStreamer's webrtcbin offers
// Constrained Baseline as 42c01f where Chromium writes 42e01f. A profile Glint does not forward is refused with a
// 400 that names it and the ones it takes. The offers are answered without the client ever connecting.
import * as assert from 'uvu/assert';
import { channelSuite, type TestApi } from '../helpers/api.ts';
import { withKey } from '../helpers/webrtc.ts';
import { whepOffer } from '../helpers/whep-offer.ts';
import { h264Profile } from '../../sfu/sdp.ts';
import { readFileSync } from 'node:fs';

/** Offers GStreamer 1.22's webrtcbin wrote (tests/helpers/whip-gst.py): no header extensions, bundle-only audio. */
const webrtcbinOffer = (codec: 'h264' | 'vp8') => readFileSync(new URL(`../fixtures/sdp/webrtcbin-whip-${codec}.sdp`, import.meta.url), 'utf8');

/** A publisher's offer (Opus + H.264 with RTX) with this profile-level-id. */
const h264Offer = (profileLevelId: string, mode = 1) =>
  whepOffer({ vp8: 102, rtx: 103 })
    .replace(/a=recvonly/g, 'a=sendonly')
    .replace(/a=mid:(\w+)/g, (_m, mid) => `a=mid:${mid}\r\na=ssrc:${1000 + Number(mid)} cname:x`)
    .replace('a=rtpmap:102 VP8/90000', `a=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=${mode};profile-level-id=${profileLevelId}`);

const t = channelSuite('WHIP H.264 profiles', { owner: 'Profile Owner', slug: 'profiles', env: { WHIP_AUTH_FAILURES_PER_MINUTE: '1000' } });

const post = (api: TestApi, key: string, body: string) =>
  fetch(`${api.base}/whip/profiles`, { method: 'POST', headers: { ...withKey(key), 'content-type': 'application/sdp' }, body });

for (const [plid, name, who] of [['42c01f', 'Constrained Baseline', 'GStreamer'], ['42e01f', 'Constrained Baseline', 'Chromium'], ['42001f', 'Baseline', ''], ['4d001f', 'Main', '']]) {
  t(`POST /whip with H.264 profile-level-id ${plid} (${name}${who ? `, as ${who} offers it` : ''}) is 201 and the answer is in the same profile`, async ({ api, key }) => {
    const res = await post(api, key, h264Offer(plid!));
    const answer = await res.text();
    try {
      assert.is(res.status, 201, answer);
      assert.match(answer, /a=rtpmap:102 H264\/90000/);
      // mediasoup answers with the canonical spelling of the same profile (42c01f → 42e01f), as RFC 6184 allows
      const answered = /a=fmtp:102 .*profile-level-id=(\w+)/.exec(answer)?.[1];
      assert.ok(answered, answer);
      assert.is(h264Profile({ mimeType: 'video/H264', clockRate: 90000, parameters: { 'profile-level-id': answered } }), name);
    } finally {
      if (res.status === 201) assert.is((await fetch(api.base + res.headers.get('location')!, { method: 'DELETE', headers: withKey(key) })).status, 200);
    }
  });
}

t('POST /whip with H.264 High (640c1f) is 400 naming the profile offered and the profiles accepted', async ({ api, key }) => {
  const res = await post(api, key, h264Offer('640c1f'));
  assert.is(res.status, 400);
  assert.is(res.headers.get('content-type'), 'application/problem+json');
  const { detail } = (await res.json()) as { detail: string };
  assert.match(detail, 'H.264 Constrained High (profile-level-id 640c1f, packetization-mode 1)');
  assert.match(detail, 'accepted: VP8, H.264 Constrained Baseline, Baseline, Main (packetization-mode 1)');
  const high = (await (await post(api, key, h264Offer('64001f'))).json()) as { detail: string };
  assert.match(high.detail, 'H.264 High (profile-level-id 64001f');
});

t('POST /whip with H.264 Constrained Baseline in packetization-mode 0 is 400 naming the mode', async ({ api, key }) => {
  const res = await post(api, key, h264Offer('42e01f', 0));
  assert.is(res.status, 400);
  assert.match(((await res.json()) as { detail: string }).detail, 'H.264 Constrained Baseline (profile-level-id 42e01f, packetization-mode 0)');
});

t('POST /whip echoes a stranger’s codec names and profile-level-ids back only in part', async ({ api, key }) => {
  const long = 'f'.repeat(4000);
  const badProfile = await post(api, key, h264Offer(`64${long}`));
  assert.is(badProfile.status, 400);
  const { detail } = (await badProfile.json()) as { detail: string };
  assert.ok(detail.length < 400, detail);
  assert.match(detail, 'H.264 of an unknown profile (profile-level-id 64ffff');
  const badName = await post(api, key, h264Offer('42e01f').replace('a=rtpmap:111 opus/48000/2', `a=rtpmap:111 X${long}/48000/2`));
  assert.is(badName.status, 400);
  const named = ((await badName.json()) as { detail: string }).detail;
  assert.ok(named.length < 400, named);
  assert.match(named, /No audio codec .*offered: XF+;/);
});

for (const codec of ['h264', 'vp8'] as const) {
  t(`POST /whip with webrtcbin's own ${codec === 'h264' ? 'H.264 (42c00d)' : 'VP8'} offer is 201 and produces its video and audio by SSRC`, async ({ api, key }) => {
    const offer = webrtcbinOffer(codec);
    const res = await post(api, key, offer);
    const answer = await res.text();
    try {
      assert.is(res.status, 201, answer);
      assert.match(answer, /a=group:BUNDLE video0 audio1/);
      const producers = (api.sfu.room('profiles') as any)?.publisher?.producers as { kind: string; rtpParameters: { encodings: { ssrc?: number }[] } }[];
      const ssrcs = [...offer.matchAll(/a=ssrc:(\d+) cname/g)].map((m) => Number(m[1]));
      assert.equal(producers.map((p) => p.kind), ['video', 'audio']);
      assert.equal(producers.map((p) => p.rtpParameters.encodings[0]?.ssrc), ssrcs);
    } finally {
      if (res.status === 201) await fetch(api.base + res.headers.get('location')!, { method: 'DELETE', headers: withKey(key) });
    }
  });
}

t.run();
