// Live: Chromium publishes over WHIP into the mediasoup SFU on 127.0.0.1 and Chromium viewers play over WHEP
// (RFC 9725 status codes and headers, media flowing both ways, DELETE freeing everything).
import * as assert from 'uvu/assert';
import { liveSuite } from '../helpers/live-suite.ts';
import { channelWithKey, type TestApi } from '../helpers/api.ts';
import { publish, until, view, viewerStats, withKey } from '../helpers/webrtc.ts';
import { eq } from 'drizzle-orm';
import { liveSession } from '../../shared/db/index.ts';

const t = liveSuite('WHIP in, WHEP out', { owner: 'Caster' });

const packetsIn = async (api: TestApi, slug: string) => {
  const room = api.sfu.room(slug);
  if (!room) return { audio: 0, video: 0, mime: '' };
  const stats = await room.producerStats();
  return {
    audio: stats.find((s) => s.kind === 'audio')?.packetCount ?? 0,
    video: stats.find((s) => s.kind === 'video')?.packetCount ?? 0,
    mime: stats.find((s) => s.kind === 'video')?.mimeType ?? '',
  };
};

for (const codec of ['VP8', 'H264'] as const) {
  t(`${codec}: WHIP publish → 201 + Location; two WHEP viewers decode video and receive audio; DELETE frees the room`, async ({ api, owner, browser }) => {
    const slug = `live-${codec.toLowerCase()}`;
    const key = await channelWithKey(owner, slug);
    const live: string[] = [];
    const off = api.deps.bus.subscribe('channel.live', (e) => live.push(e.slug));
    const pub = await browser.context.newPage();
    const viewers = [await browser.context.newPage(), await browser.context.newPage()];
    try {
      await pub.goto(api.base + '/');
      const p = await publish(pub, { slug, key, codec });
      assert.is(p.status, 201, p.body);
      assert.match(p.location ?? '', new RegExp(`^/whip/${slug}/[A-Za-z0-9_-]{43}$`), 'the resource is a 256-bit token');
      assert.match(p.body, /a=ice-lite/);
      assert.match(p.body, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/, 'ICE candidates announce loopback only');
      assert.match(p.body, /a=candidate:\S+ 1 tcp \d+ 127\.0\.0\.1 \d+ typ host tcptype passive/, 'and ICE over TCP');
      const serverPorts = (await api.sfu.pool.ports()).flat();
      for (const m of p.body.matchAll(/a=candidate:\S+ 1 (?:udp|tcp) \d+ \S+ (\d+) typ host/g)) {
        assert.ok(serverPorts.includes(Number(m[1])), `candidate port ${m[1]} is a WebRtcServer port (${serverPorts})`);
      }
      const flowing = await until(() => packetsIn(api, slug), (s) => s.audio > 20 && s.video > 20, 10_000);
      assert.ok(flowing.audio > 20 && flowing.video > 20, JSON.stringify(flowing));
      assert.is(flowing.mime, `video/${codec}`);
      assert.equal(live, [slug], 'channel.live announced on the bus');
      const onAir = (await owner.get(`/api/channels/${slug}`)).body;
      assert.is(onAir.live?.source, 'whip', 'the API shows the channel live');
      assert.is((await owner.get('/api/channels?live=true')).body.items[0].slug, slug, 'live channels are listed first');

      // the first viewer joins at once; the second joins late and must start decoding within 2 s (keyframe on join)
      for (const [i, viewer] of viewers.entries()) {
        if (i === 1) await new Promise((r) => setTimeout(r, 3000));
        await viewer.goto(api.base + '/');
        const joined = Date.now();
        const v = await view(viewer, slug);
        assert.is(v.status, 201, v.body);
        assert.match(v.location ?? '', new RegExp(`^/whep/${slug}/[A-Za-z0-9_-]{43}$`));
        const first = await until(() => viewerStats(viewer), (s) => s.framesDecoded > 0, 10_000);
        assert.ok(first.framesDecoded > 0, `viewer ${i} decodes: ${JSON.stringify(first)}`);
        if (i === 1) assert.ok(Date.now() - joined < 2_000 + 2_500, `late joiner decoded after ${Date.now() - joined} ms (≤ 2 s after connecting)`);
        assert.is(first.codec, `video/${codec}`);
      }
      for (const viewer of viewers) {
        const a = await viewerStats(viewer);
        const b = await until(() => viewerStats(viewer), (s) => s.framesDecoded > a.framesDecoded + 15 && s.audioPackets > a.audioPackets + 15, 5_000);
        assert.ok(b.framesDecoded > a.framesDecoded + 15 && b.audioPackets > a.audioPackets + 15, `playback keeps going: ${JSON.stringify([a, b])}`);
      }
      const shot = await viewers[0]!.locator('#whep-video').screenshot();
      assert.ok(shot.length > 5_000, 'the viewer shows a non-blank frame');
      assert.is(api.sfu.room(slug)!.viewerCount, 2);
      const watched = await until(async () => (await owner.get(`/api/channels/${slug}`)).body.live?.viewers, (n) => n === 2, 3_000);
      assert.is(watched, 2, 'the API shows the viewer count');

      const room = api.sfu.room(slug)!;
      const held = await room.dump();
      assert.ok(held.transports >= 3 && held.producers >= 2 && held.consumers >= 4, JSON.stringify(held));
      const sessionId = onAir.live.sessionId as string;
      assert.not.ok(p.location!.includes(sessionId), 'the Location does not carry the public session id');
      const token = p.location!.split('/').pop()!;
      const publicViews = [onAir, (await owner.get('/api/channels?live=true')).body, (await api.client().get(`/api/channels/${slug}`)).body];
      assert.not.ok(publicViews.some((v) => JSON.stringify(v).includes(token)), 'no JSON carries the resource token');
      assert.is((await fetch(api.base + p.location!, { method: 'DELETE' })).status, 401, 'no stream key: refused');
      assert.ok(api.sfu.room(slug), 'and the broadcast goes on');
      assert.is((await fetch(`${api.base}/whip/${slug}/${sessionId}`, { method: 'DELETE', headers: withKey(key) })).status, 404, 'the public session id is not the resource');
      const del = await fetch(api.base + p.location!, { method: 'DELETE', headers: withKey(key) });
      assert.is(del.status, 200);
      assert.is(api.sfu.room(slug), undefined);
      assert.equal(await room.dump(), { transports: 0, producers: 0, consumers: 0 }, 'nothing is left behind');
      const ended = await until(async () => (await owner.get(`/api/channels/${slug}`)).body.live, (l) => l === null, 3_000);
      assert.is(ended, null, 'the API shows the channel offline');
      const [row] = await api.deps.database.db.select().from(liveSession).where(eq(liveSession.id, sessionId));
      assert.ok(row?.endedAt, 'the live session row is closed');
      assert.is(row!.peakViewers, 2);
      assert.is(row!.endReason, 'DELETE');
      assert.equal(row!.codecs.sort(), ['audio/opus', `video/${codec}`].sort());
      assert.is((await fetch(api.base + p.location!, { method: 'DELETE', headers: withKey(key) })).status, 404);
      // the viewers notice: their connection stops receiving
      const stopped = await until(() => viewerStats(viewers[0]!), (s) => s.state !== 'connected', 15_000);
      assert.is.not(stopped.state, 'connected', 'the viewer is told the broadcast ended');
    } finally {
      off();
      await pub.close();
      for (const v of viewers) await v.close();
    }
  });
}

t('a simulcast broadcast (three VP8 layers) is accepted; a viewer decodes it', async ({ api, owner, browser }) => {
  const key = await channelWithKey(owner, 'layers');
  const pub = await browser.context.newPage();
  const viewer = await browser.context.newPage();
  try {
    await pub.goto(api.base + '/');
    const p = await publish(pub, { slug: 'layers', key, codec: 'VP8', simulcast: true });
    assert.is(p.status, 201, p.body);
    assert.match(p.body, /a=simulcast:recv q;h;f/);
    const layers = await until(
      async () => (await api.sfu.room('layers')!.producerStats()).filter((s) => s.kind === 'video' && s.packetCount > 0).length,
      (n) => n >= 2,
      10_000,
    );
    assert.ok(layers >= 2, `simulcast layers arriving: ${layers}`);
    await viewer.goto(api.base + '/');
    assert.is((await view(viewer, 'layers')).status, 201);
    const s = await until(() => viewerStats(viewer), (x) => x.framesDecoded > 10, 10_000);
    assert.ok(s.framesDecoded > 10, JSON.stringify(s));
    await fetch(api.base + p.location!, { method: 'DELETE', headers: withKey(key) });
  } finally {
    await pub.close();
    await viewer.close();
  }
});

const SDP_WITHOUT_CODECS = [
  'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=fingerprint:sha-256 ' + 'AB:'.repeat(31) + 'AB',
  'm=video 9 UDP/TLS/RTP/SAVPF 98', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=sendonly', 'a=setup:actpass', 'a=rtcp-mux',
  'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=rtpmap:98 AV1X/90000', 'a=ssrc:1 cname:x', '',
].join('\r\n');

t('bad WHIP requests get their RFC 9725 statuses as problem+json and start nothing', async ({ api, owner, browser }) => {
  const key = await channelWithKey(owner, 'guarded');
  const otherKey = await channelWithKey(owner, 'other-one');
  const post = (headers: Record<string, string>, body: string, slug = 'guarded') => fetch(`${api.base}/whip/${slug}`, { method: 'POST', headers, body });
  const sdp = { 'content-type': 'application/sdp' };

  const noKey = await post(sdp, SDP_WITHOUT_CODECS);
  assert.is(noKey.status, 401);
  assert.match(noKey.headers.get('www-authenticate') ?? '', /^Bearer/);
  assert.is(noKey.headers.get('content-type'), 'application/problem+json');
  assert.is((await post({ ...sdp, authorization: 'Bearer glint_wrongwrongwrong' }, SDP_WITHOUT_CODECS)).status, 401);
  assert.is((await post({ ...sdp, authorization: `Bearer ${otherKey}` }, SDP_WITHOUT_CODECS)).status, 401, "another channel's key");
  assert.is((await post({ 'content-type': 'text/plain', authorization: `Bearer ${key}` }, SDP_WITHOUT_CODECS)).status, 415);
  assert.is((await post({ ...sdp, authorization: `Bearer ${key}` }, 'hello')).status, 400);
  const codecless = await post({ ...sdp, authorization: `Bearer ${key}` }, SDP_WITHOUT_CODECS);
  assert.is(codecless.status, 400);
  assert.match(((await codecless.json()) as any).detail, /codec/);
  assert.is(api.sfu.room('guarded'), undefined, 'no room was left open');

  // a second publisher while live → 409; the first keeps going
  const pub = await browser.context.newPage();
  const second = await browser.context.newPage();
  try {
    await pub.goto(api.base + '/');
    assert.is((await publish(pub, { slug: 'guarded', key })).status, 201);
    await second.goto(api.base + '/');
    const again = await publish(second, { slug: 'guarded', key });
    assert.is(again.status, 409);
    assert.ok(api.sfu.room('guarded'), 'the first broadcast is untouched');
    const loc = await pub.evaluate(() => (window as any).__pub.location as string);
    const patch = (headers: Record<string, string>) =>
      fetch(api.base + loc, { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag', ...headers }, body: 'a=end-of-candidates' });
    const unauthorized = await patch({});
    assert.is(unauthorized.status, 401, 'PATCH /whip/:slug/:resource without the stream key is 401');
    assert.match(unauthorized.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.is((await patch(withKey(otherKey))).status, 401, "another channel's key");
    const patched = await patch(withKey(key));
    assert.is(patched.status, 405, 'with it: no trickle ICE');
    assert.is(patched.headers.get('allow'), 'DELETE, OPTIONS');
    // DELETE /whip/:slug/:resource without the publisher's stream key is 401 and the broadcast goes on
    assert.is((await fetch(api.base + loc, { method: 'DELETE' })).status, 401);
    assert.is((await fetch(api.base + loc, { method: 'DELETE', headers: withKey(otherKey) })).status, 401);
    assert.is((await fetch(api.base + loc, { method: 'DELETE', headers: { authorization: 'Bearer glint_wrongwrongwrong' } })).status, 401);
    assert.ok(api.sfu.room('guarded')?.publisherId, 'the broadcast goes on');
    // revoking the key that is publishing ends the broadcast
    const keys = (await owner.get('/api/channels/guarded/stream-keys')).body as { id: string; prefix: string }[];
    const used = keys.find((k) => key.startsWith(k.prefix))!;
    assert.is((await owner.delete(`/api/channels/guarded/stream-keys/${used.id}`)).status, 204);
    const gone = await until(async () => api.sfu.room('guarded'), (r) => r === undefined, 3_000);
    assert.is(gone, undefined);
  } finally {
    await pub.close();
    await second.close();
  }
});

/** A body that never ends: 16 KiB chunks until the server stops reading; `sent()` is how much went out. */
function endless() {
  let sent = 0;
  const chunk = new TextEncoder().encode('v=0\r\n' + 'a=x-filler:'.padEnd(16 * 1024 - 8, 'x') + '\r\n');
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { body, sent: () => sent };
}

t('POST /whip and /whep bodies over 64 KiB are 413 problem+json, chunked ones too, without being read whole', async ({ api, owner }) => {
  const key = await channelWithKey(owner, 'big-bodies');
  const urls = [
    { url: `${api.base}/whip/big-bodies`, headers: { 'content-type': 'application/sdp', ...withKey(key) } },
    { url: `${api.base}/whep/big-bodies`, headers: { 'content-type': 'application/sdp' } },
  ];
  for (const { url, headers } of urls) {
    const declared = await fetch(url, { method: 'POST', headers, body: 'v=0\r\n' + 'x'.repeat(200 * 1024) });
    assert.is(declared.status, 413, url);
    assert.is(declared.headers.get('content-type'), 'application/problem+json');
    // chunked, no Content-Length, and it never ends: refused once 64 KiB have arrived, not after reading it all
    const stream = endless();
    const chunked = await fetch(url, { method: 'POST', headers, body: stream.body, duplex: 'half', signal: AbortSignal.timeout(10_000) } as RequestInit);
    assert.is(chunked.status, 413, url);
    assert.match(((await chunked.json()) as { detail: string }).detail, /at most 65536 bytes/);
    assert.ok(stream.sent() < 8 * 1024 * 1024, `the server stopped reading after ${stream.sent()} bytes`);
  }
  assert.is(api.sfu.room('big-bodies'), undefined, 'nothing was started');
});

t('WHEP on an offline or unknown channel → 404 problem+json', async ({ api }) => {
  const offer = SDP_WITHOUT_CODECS.replace('a=sendonly', 'a=recvonly');
  const offline = await fetch(`${api.base}/whep/other-one`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
  assert.is(offline.status, 404);
  assert.match(((await offline.json()) as any).detail, /offline/);
  assert.is((await fetch(`${api.base}/whep/nope-nope`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer })).status, 404);
});

t.run();
