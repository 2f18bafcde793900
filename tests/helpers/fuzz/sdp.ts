// SDP fuzzer for WHIP and WHEP: offers Chromium made (tests/fixtures/sdp/, captured from Debian's Chromium 156 with
// the fake camera and microphone: a WHIP publisher, the same with three simulcast layers, a WHEP viewer) mutated
// line by line — dropped, duplicated, shuffled, huge values, bad fingerprints and setup roles, thousands of
// m-lines / SSRCs / rids within the size cap, wrong payload types, rtpmap/fmtp and simulcast garbage, CRLF/LF
// mixes, NUL bytes. Every reply must be 2xx or 4xx, and whatever a 2xx allocated is freed by its DELETE.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_SDP_BYTES } from '../../../shared/request-body.ts';
import { channelWithKey, type TestApi } from '../api.ts';
import { launchBrowser, type Browser } from '../browser.ts';
import { publish } from '../webrtc.ts';
import { hostileString, Rng } from './common.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/sdp');
export const offers = {
  whip: readFileSync(path.join(FIXTURES, 'chromium-whip.sdp'), 'utf8'),
  whipSimulcast: readFileSync(path.join(FIXTURES, 'chromium-whip-simulcast.sdp'), 'utf8'),
  whep: readFileSync(path.join(FIXTURES, 'chromium-whep.sdp'), 'utf8'),
};
/** The SFU's bound on an offer (shared/request-body.ts): offers are generated up to it, and a few above it. */
export const SDP_CAP_BYTES = MAX_SDP_BYTES;

const lines = (sdp: string) => sdp.split(/\r?\n/).filter((l) => l !== '');
/** The session part and the m-sections of an offer, as lists of lines. */
function sections(sdp: string): { session: string[]; media: string[][] } {
  const all = lines(sdp);
  const first = all.findIndex((l) => l.startsWith('m='));
  if (first < 0) return { session: all, media: [] };
  const media: string[][] = [];
  for (const l of all.slice(first)) {
    if (l.startsWith('m=')) media.push([l]);
    else media[media.length - 1]!.push(l);
  }
  return { session: all.slice(0, first), media };
}
const join = (ls: string[], eol = '\r\n') => ls.join(eol) + eol;
/** Repeats `make(i)` until adding another would pass `budget` bytes. */
function fill(budget: number, make: (i: number) => string): string[] {
  const out: string[] = [];
  let size = 0;
  for (let i = 0; ; i++) {
    const l = make(i);
    if (size + l.length + 2 > budget) return out;
    out.push(l);
    size += l.length + 2;
  }
}

/** One mutation of an offer; `what` names it for the failure message. */
export function mutateOffer(rng: Rng, base: string): { sdp: string; what: string } {
  const { session, media } = sections(base);
  const all = lines(base);
  if (!media.length || all.length < 2) return { sdp: join([...all, 'm=video 9 UDP/TLS/RTP/SAVPF 96']), what: 'a bare m-line added' };
  const room = () => SDP_CAP_BYTES - base.length - 256;
  const pick = () => rng.int(all.length);
  const video = media.find((m) => m[0]!.startsWith('m=video')) ?? media[0]!;
  const replaceIn = (re: RegExp, value: (line: string) => string) => join(all.map((l) => (re.test(l) ? value(l) : l)));
  switch (rng.int(24)) {
    case 0: {
      const n = 1 + rng.int(5);
      const drop = new Set(Array.from({ length: n }, pick));
      return { sdp: join(all.filter((_, i) => !drop.has(i))), what: `${n} lines dropped` };
    }
    case 1: {
      const i = pick();
      const times = rng.pick([2, 10, 500]);
      return { sdp: join([...all.slice(0, i), ...Array(times).fill(all[i]), ...all.slice(i + 1)]), what: `line ${i} (${all[i]!.slice(0, 30)}) ×${times}` };
    }
    case 2:
      return { sdp: join([all[0]!, ...rng.shuffle(all.slice(1))]), what: 'lines shuffled' };
    case 3:
      return { sdp: join([...session, ...media.map((m) => [m[0]!, ...rng.shuffle(m.slice(1))]).flat()]), what: 'lines shuffled within sections' };
    case 4: {
      // one attribute's value huge (within the cap, or over it)
      const i = 1 + rng.int(all.length - 1);
      const size = rng.chance(0.8) ? room() : SDP_CAP_BYTES + 1;
      const l = all[i]!;
      const at = l.indexOf(':') > 0 ? l.indexOf(':') + 1 : l.length;
      return { sdp: join([...all.slice(0, i), l.slice(0, at) + 'A'.repeat(Math.max(0, size)) + l.slice(at), ...all.slice(i + 1)]), what: `huge value on ${l.slice(0, 20)}` };
    }
    case 5:
      return {
        sdp: replaceIn(/^a=fingerprint:/, () => `a=fingerprint:${rng.pick(['sha-256 ZZ:ZZ', 'sha-256', 'md5 00', 'sha-999 AA:BB', '', ' ', 'sha-256 ' + 'AB:'.repeat(4000), 'sha-1 \u0000', 'SHA-256 00:11'])}`),
        what: 'bad fingerprint',
      };
    case 6:
      return { sdp: join(all.filter((l) => !l.startsWith('a=fingerprint:'))), what: 'no fingerprint' };
    case 7:
      return { sdp: replaceIn(/^a=setup:/, () => `a=setup:${rng.pick(['passive', 'active', 'holdconn', 'garbage', '', 'actpass actpass', hostileString(rng, 64)])}`), what: 'setup role' };
    case 8: {
      // thousands of m-lines, each a copy of the video section with its own mid
      const body = video.filter((l) => !l.startsWith('a=mid:'));
      const bytes = body.join('\r\n').length + 20;
      const copies = Math.max(2, Math.floor(room() / bytes));
      const extra = Array.from({ length: copies }, (_, i) => [body[0]!, `a=mid:x${i}`, ...body.slice(1)]).flat();
      return { sdp: join([...session.filter((l) => !l.startsWith('a=group:BUNDLE')), ...media.flat(), ...extra]), what: `${copies} more m-sections` };
    }
    case 9: {
      const m = fill(Math.min(room(), 60_000), (i) => `m=${rng.pick(['audio', 'video', 'application', 'text'])} 9 UDP/TLS/RTP/SAVPF ${96 + (i % 32)}`);
      return { sdp: join([...session, ...media.flat(), ...m]), what: `${m.length} bare m-lines` };
    }
    case 10: {
      const ssrcs = fill(room(), (i) => `a=ssrc:${(1_000_000 + i) >>> 0} cname:${rng.chance(0.5) ? 'x' : 'y'.repeat(20)}`);
      return { sdp: join([...session, ...media.flat(), ...ssrcs]), what: `${ssrcs.length} ssrc lines` };
    }
    case 11: {
      const rids = fill(room() - 200, (i) => `a=rid:r${i} ${rng.pick(['send', 'recv', 'both'])}${rng.chance(0.3) ? ' max-width=99999999;pt=999' : ''}`);
      const v = [...video, ...rids, `a=simulcast:send ${rids.slice(0, 500).map((_, i) => `r${i}`).join(';')}`];
      return { sdp: join([...session, ...media.map((m) => (m === video ? v : m)).flat()]), what: `${rids.length} rid lines` };
    }
    case 12:
      return {
        sdp: replaceIn(/^m=(audio|video)/, (l) => l.split(' ').slice(0, 3).join(' ') + ' ' + rng.pick(['300 -1 abc', '', '96 96 96 96', '0', '128 255 65536', '1e3 0x60', ' '.repeat(50), '96'.repeat(1000)])),
        what: 'payload types on the m-line',
      };
    case 13:
      return {
        sdp: replaceIn(/^a=rtpmap:/, (l) => (rng.chance(0.5) ? l : `a=rtpmap:${rng.pick(['96 VP8/abc', '96 VP8', '-1 opus/48000/2', '111 opus/48000/99999999', '96 H264/90000/', '96 /', '96', '96 VP8/0', '96 VP8/-90000', '4294967297 VP8/90000', '96 vp8/90000', '96 rtx/90000'])}`)),
        what: 'rtpmap garbage',
      };
    case 14:
      return {
        sdp: replaceIn(/^a=fmtp:/, (l) => (rng.chance(0.5) ? l : `a=fmtp:${rng.pick(['96 apt=xx;;==', '97 apt=97', '97 apt=-1', '102 profile-level-id=ZZZZZZ;packetization-mode=9', '111 minptime=1e999;useinbandfec=NaN', '96 ' + 'a=b;'.repeat(2000), '96', '96 =;=;=', '98 apt=999999999999'])}`)),
        what: 'fmtp garbage',
      };
    case 15: {
      const garbage = rng.pick(['a=simulcast:send q;h;f ~;;', 'a=simulcast:recv', 'a=simulcast:', 'a=simulcast:send ~~~', 'a=simulcast:send ' + 'x,'.repeat(3000), 'a=simulcast:send q;q;q;q', 'a=simulcast:send 1 recv 2 send 3', 'a=rid:', 'a=rid:q', 'a=rid:q sendrecv', 'a=rid:\u0000 send']);
      return { sdp: join([...session, ...media.map((m) => (m === video ? [...m, garbage] : m)).flat()]), what: `simulcast garbage: ${garbage.slice(0, 40)}` };
    }
    case 16:
      return { sdp: all.map((l) => l + rng.pick(['\r\n', '\n', '\r', '\n\r', '\r\r\n'])).join(''), what: 'mixed line endings' };
    case 17: {
      const i = pick();
      const l = all[i]!;
      const at = rng.int(l.length + 1);
      return { sdp: join([...all.slice(0, i), l.slice(0, at) + rng.pick(['\u0000', '\u0000\u0000\u0000', '\ud800', '\u202e', '\uffff', '🎥']) + l.slice(at), ...all.slice(i + 1)]), what: `odd character in line ${i}` };
    }
    case 18:
      return { sdp: replaceIn(/^a=(ssrc|ssrc-group):/, (l) => l.replace(/\d{6,}/g, () => rng.pick(['0', '-1', '4294967296', '99999999999999999999', 'NaN', '1.5', '']))), what: 'SSRC values' };
    case 19:
      return { sdp: replaceIn(/^a=(mid|group:BUNDLE|extmap):/, (l) => l.replace(/:.*/, ':' + rng.pick(['', '0', '0 0 0', hostileString(rng, 64), '9999 urn:x', '-1 urn:ietf:params:rtp-hdrext:sdes:mid']))), what: 'mid/bundle/extmap values' };
    case 20:
      return { sdp: rng.pick(['v=0', 'v=0\r\n', 'v=0\r\nm=', 'v=0\r\nm=video', 'v=1\r\n' + all.slice(1).join('\r\n'), '  v=0\r\n' + all.slice(1).join('\r\n'), all.slice(1).join('\r\n'), hostileString(rng, 4096)]), what: 'not really an offer' };
    case 21: {
      // the other direction's offer, or a publisher's sections in a viewer's offer
      const other = rng.pick([offers.whip, offers.whep, offers.whipSimulcast]);
      return { sdp: join([...session, ...media.flat(), ...sections(other).media.flat()]), what: 'sections of another offer appended' };
    }
    case 22:
      return { sdp: replaceIn(/^a=(sendonly|recvonly|sendrecv|inactive)$/, () => `a=${rng.pick(['sendonly', 'recvonly', 'sendrecv', 'inactive', 'sendrecvonly'])}`), what: 'directions' };
    default: {
      // several mutations on top of each other
      let s = base;
      const whats: string[] = [];
      for (let i = 0; i < 3; i++) {
        const m = mutateOffer(rng, s.length < SDP_CAP_BYTES / 2 ? s : base);
        s = m.sdp;
        whats.push(m.what);
      }
      return { sdp: s, what: whats.join(' + ') };
    }
  }
}

export type SdpTarget = { base: string; whipSlug: string; whipKey: string; whepSlug: string };
export type SdpFuzzResult = { cases: number; accepted: number; failures: string[] };

const CONTENT_TYPES = ['application/sdp', 'application/sdp', 'application/sdp', 'application/sdp; charset=utf-8', 'APPLICATION/SDP', 'text/plain', undefined, 'application/json', 'application/sdp, text/html'];

/**
 * Posts mutated offers, alternating WHIP (with the stream key, so the SDP parser and Room.publish are reached) and
 * WHEP (against the live room), for `seconds`. A 201 is DELETEd at once, as a client that leaves would.
 */
export async function fuzzSdp(t: SdpTarget, rng: Rng, seconds: number): Promise<SdpFuzzResult> {
  const failures: string[] = [];
  let cases = 0;
  let accepted = 0;
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const whip = cases % 2 === 0;
    const base = whip ? (rng.chance(0.5) ? offers.whip : offers.whipSimulcast) : rng.chance(0.9) ? offers.whep : offers.whip;
    const { sdp, what } = rng.chance(0.05) ? { sdp: base, what: 'the offer as captured' } : mutateOffer(rng, base);
    const type = rng.pick(CONTENT_TYPES);
    const headers: Record<string, string> = {};
    if (type) headers['content-type'] = type;
    if (whip) headers.authorization = `Bearer ${t.whipKey}`;
    const url = `${t.base}/${whip ? 'whip' : 'whep'}/${whip ? t.whipSlug : t.whepSlug}`;
    const where = `[seed ${rng.seed}] POST ${url.slice(t.base.length)} (${what}, ${sdp.length} bytes, content-type ${JSON.stringify(type)})`;
    cases++;
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body: sdp });
    } catch (err) {
      failures.push(`the request failed (${(err as Error).message}): ${where}`);
      continue;
    }
    const text = await res.text();
    if (res.status >= 500) failures.push(`${res.status}: ${where} → ${text.slice(0, 300)}\n      offer head: ${JSON.stringify(sdp.slice(0, 300))}`);
    else if (res.status >= 400 && !(res.headers.get('content-type') ?? '').startsWith('application/problem+json')) failures.push(`${res.status} is not problem+json: ${where}`);
    if (res.status === 201) {
      accepted++;
      const location = res.headers.get('location');
      if (!location) failures.push(`201 without a Location: ${where}`);
      else {
        // ending a WHIP session takes the stream key that started it (a stranger's DELETE is 401)
        const del = await fetch(t.base + location, { method: 'DELETE', headers: whip ? { authorization: `Bearer ${t.whipKey}` } : {} });
        if (del.status !== 200) failures.push(`DELETE ${location} after an accepted offer answered ${del.status}: ${where}`);
      }
    }
  }
  return { cases, accepted, failures };
}

/** The SFU env the SDP fuzzer wants: no recorder (it would attach transports of its own), a lost publisher ends at once. */
export const SDP_FUZZ_ENV = { RECORDER_EMBEDDED: 'false', PUBLISH_GRACE_MS: '0', RTMP_ENABLED: 'false' };

/**
 * Two channels of one owner: `fz-whip`, offline (its stream key lets offers reach Room.publish), and `fz-live`, kept
 * live by a Chromium publisher (fake camera and microphone), for WHEP offers to reach Room.view.
 */
export async function sdpWorld(api: TestApi): Promise<{ target: SdpTarget; browser: Browser }> {
  const owner = await api.client().signUp('Sdp Owner');
  const whipKey = await channelWithKey(owner, 'fz-whip');
  const liveKey = await channelWithKey(owner, 'fz-live');
  const browser = await launchBrowser({ fakeMedia: true });
  const page = await browser.context.newPage();
  await page.goto(api.base + '/');
  const p = await publish(page, { slug: 'fz-live', key: liveKey });
  if (p.status !== 201) throw new Error(`the Chromium publisher was refused: ${p.status} ${p.body}`);
  return { target: { base: api.base, whipSlug: 'fz-whip', whipKey, whepSlug: 'fz-live' }, browser };
}
