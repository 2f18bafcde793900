// A WHEP offer as Chromium writes one (recvonly Opus + VP8 with RTX, bundled, rtcp-mux), with random ICE credentials
// and a random DTLS fingerprint: the server answers it and allocates a transport without the client ever connecting.
// The payload types are parameters, so a test can number codecs as different players do (each numbering needs its
// own edge router on the SFU).
import { randomBytes } from 'node:crypto';

export function whepOffer(opts: { opus?: number; vp8?: number; rtx?: number } = {}): string {
  const { opus = 111, vp8 = 96, rtx = vp8 + 1 } = opts;
  const fingerprint = [...randomBytes(32)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
  const ufrag = randomBytes(3).toString('hex');
  const pwd = randomBytes(12).toString('hex');
  const common = [
    'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0', `a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`, 'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${fingerprint}`, 'a=setup:actpass',
  ];
  return [
    'v=0', `o=- ${BigInt('0x' + randomBytes(7).toString('hex'))} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=extmap-allow-mixed', 'a=msid-semantic: WMS',
    `m=audio 9 UDP/TLS/RTP/SAVPF ${opus}`, ...common, 'a=mid:0', 'a=recvonly', 'a=rtcp-mux',
    `a=rtpmap:${opus} opus/48000/2`, `a=rtcp-fb:${opus} transport-cc`, `a=fmtp:${opus} minptime=10;useinbandfec=1`,
    `m=video 9 UDP/TLS/RTP/SAVPF ${vp8} ${rtx}`, ...common, 'a=mid:1', 'a=recvonly', 'a=rtcp-mux', 'a=rtcp-rsize',
    `a=rtpmap:${vp8} VP8/90000`, `a=rtcp-fb:${vp8} goog-remb`, `a=rtcp-fb:${vp8} transport-cc`, `a=rtcp-fb:${vp8} ccm fir`,
    `a=rtcp-fb:${vp8} nack`, `a=rtcp-fb:${vp8} nack pli`, `a=rtpmap:${rtx} rtx/90000`, `a=fmtp:${rtx} apt=${vp8}`,
    '',
  ].join('\r\n');
}
