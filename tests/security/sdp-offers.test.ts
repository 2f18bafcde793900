// Hostile SDP offers through the real HTTP stack into mediasoup: odd fingerprints, payload types, extensions,
// duplicated sections and SSRCs, hundreds of m-sections, and random line mutations of a valid offer, to WHEP (a live
// channel) and WHIP (with a valid key). Every answer is a 201 or a 4xx problem — never a 5xx — and what the accepted
// ones opened is freed by their DELETE. Random mutations run GLINT_FUZZ_SECONDS (default 4).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { channelWithKey, startTestApi, type TestApi } from '../helpers/api.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { publish, unpublish, until, withKey } from '../helpers/webrtc.ts';
import { whepOffer } from '../helpers/whep-offer.ts';
import type { Page } from 'playwright-core';

const FUZZ_SECONDS = Number(process.env.GLINT_FUZZ_SECONDS ?? 4);

type Ctx = { api: TestApi; browser: Browser; page: Page; whipKey: string };
const t = suite<Ctx>('hostile SDP offers');

t.before(async (ctx) => {
  ctx.api = await startTestApi({ WHEP_OFFERS_PER_MINUTE: '100000', WHEP_SESSIONS_PER_ADDRESS: '100000', SFU_VIEWERS_PER_CHANNEL: '100000' });
  const owner = await ctx.api.client().signUp('Offers');
  const key = await channelWithKey(owner, 'watched');
  ctx.whipKey = await channelWithKey(owner, 'ingest');
  ctx.browser = await launchBrowser({ fakeMedia: true });
  ctx.page = await ctx.browser.context.newPage();
  await ctx.page.goto(ctx.api.base + '/');
  if ((await publish(ctx.page, { slug: 'watched', key })).status !== 201) throw new Error('publish failed');
  await until(async () => ctx.api.sfu.room('watched')?.codecs.length ?? 0, (n) => n === 2, 10_000);
});
t.after(async (ctx) => {
  if (ctx.page) await unpublish(ctx.page).catch(() => undefined);
  await ctx.browser?.close();
  await ctx.api?.stop();
});

const valid = whepOffer();

/** Offers a person would not send; each is sent as a viewer's and (recvonly → sendonly, SSRCs added) a publisher's. */
const CRAFTED: [string, string][] = [
  ['md5 fingerprint', valid.replace(/sha-256/g, 'md5')],
  ['unknown fingerprint algorithm', valid.replace(/sha-256/g, 'foo')],
  ['short fingerprint', valid.replace(/(a=fingerprint:sha-256 )\S+/g, '$1AB')],
  ['setup passive', valid.replace(/actpass/g, 'passive')],
  ['setup nonsense', valid.replace(/actpass/g, 'holdconn')],
  ['payload type 300', valid.replace(/\b96\b/g, '300')],
  ['payload type -1', valid.replace(/\b96\b/g, '-1')],
  ['payload type abc', valid.replace(/\b96\b/g, 'abc')],
  ['no clock rate', valid.replace('VP8/90000', 'VP8')],
  ['clock rate 0', valid.replace('VP8/90000', 'VP8/0')],
  ['99 audio channels', valid.replace('opus/48000/2', 'opus/48000/99')],
  ['RTX apt garbage', valid.replace(/apt=96/, 'apt=zz')],
  ['RTX pointing at itself', valid.replace(/apt=96/, 'apt=97')],
  ['duplicate mid', valid.replace('a=mid:1', 'a=mid:0')],
  ['extension id 300', valid.replace('a=mid:1', 'a=mid:1\r\na=extmap:300 urn:ietf:params:rtp-hdrext:sdes:mid')],
  ['extension id 0', valid.replace('a=mid:1', 'a=mid:1\r\na=extmap:0 urn:ietf:params:rtp-hdrext:sdes:mid')],
  ['one extension id twice', valid.replace('a=mid:1', 'a=mid:1\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time')],
  ['no ICE credentials', valid.split('\r\n').filter((l) => !l.startsWith('a=ice-')).join('\r\n')],
  ['300 video sections', valid + Array.from({ length: 300 }, (_, i) => `m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v${i}\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n`).join('')],
  ['a data channel instead of audio', valid.replace('m=audio 9 UDP/TLS/RTP/SAVPF 111', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel')],
  ['H.264 with a bad profile and packetization mode', valid.replace('VP8/90000', 'H264/90000').replace('a=rtcp-fb:96 goog-remb', 'a=fmtp:96 profile-level-id=zzzzzz;packetization-mode=7')],
  ['fmtp garbage', valid.replace('minptime=10;useinbandfec=1', ';;;=;==;a=b=c')],
  ['rtcp-fb for every payload', valid.replace('a=rtcp-fb:96 nack pli', 'a=rtcp-fb:* nack pli')],
  ['blank lines', valid.replace(/\r\n/g, '\r\n\r\n')],
  ['LF line ends', valid.replace(/\r\n/g, '\n')],
  ['2,000 payload types', valid.replace('m=video 9 UDP/TLS/RTP/SAVPF 96 97', 'm=video 9 UDP/TLS/RTP/SAVPF ' + Array.from({ length: 2000 }, (_, i) => i).join(' '))],
];

/** Deletes, duplicates or renumbers a few lines of the valid offer. */
function mutate(): string {
  const lines = valid.split('\r\n');
  for (let k = 0; k < 3; k++) {
    const j = Math.floor(Math.random() * lines.length);
    const r = Math.random();
    if (r < 0.3) lines.splice(j, 1);
    else if (r < 0.6) lines.splice(j, 0, lines[Math.floor(Math.random() * lines.length)]!);
    else lines[j] = lines[j]!.replace(/\d+/, String(Math.floor(Math.random() * 70_000) - 100));
  }
  return lines.join('\r\n');
}

/** A viewer's offer as a publisher's: sending, with an SSRC per section (the same one in each: a duplicate). */
const asPublisher = (sdp: string) => sdp.replace(/a=recvonly/g, 'a=sendonly').replace(/a=mid:(\w+)/g, 'a=mid:$1\r\na=ssrc:1234 cname:x');

async function send(ctx: Ctx, name: string, sdp: string, failures: string[]) {
  const attempts = [
    { url: '/whep/watched', headers: {}, body: sdp },
    { url: '/whip/ingest', headers: withKey(ctx.whipKey), body: asPublisher(sdp) },
  ];
  for (const a of attempts) {
    const res = await fetch(ctx.api.base + a.url, { method: 'POST', headers: { 'content-type': 'application/sdp', ...a.headers }, body: a.body });
    const text = await res.text();
    if (res.status >= 500 || (res.status !== 201 && res.headers.get('content-type') !== 'application/problem+json')) failures.push(`${a.url} ${name}: ${res.status} ${text.slice(0, 160)}`);
    if (res.status === 201) await fetch(ctx.api.base + res.headers.get('location')!, { method: 'DELETE', headers: a.headers });
  }
}

t('crafted offers to POST /whep and /whip are answered with 201 or a 4xx problem, never a 5xx', async (ctx) => {
  const failures: string[] = [];
  for (const [name, sdp] of CRAFTED) await send(ctx, name, sdp, failures);
  assert.equal(failures, []);
});

t(`randomly mutated offers for ${FUZZ_SECONDS} s: never a 5xx; what they opened is freed`, async (ctx) => {
  const room = ctx.api.sfu.room('watched')!;
  const before = await room.dump(); // the publisher and the recorder's plain transports
  const failures: string[] = [];
  let sent = 0;
  for (const until = Date.now() + FUZZ_SECONDS * 1000; Date.now() < until; sent++) await send(ctx, `mutation ${sent}`, mutate(), failures);
  assert.equal(failures, []);
  assert.ok(sent > 10, `${sent} offers`);
  assert.is(room.viewerCount, 0);
  assert.is(room.numberingCount, 0);
  assert.equal(await room.dump(), before, 'what the accepted offers opened is gone');
  assert.is(ctx.api.sfu.room('ingest'), undefined, 'no broadcast was left open');
});

t.run();
