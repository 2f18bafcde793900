// SDP ↔ mediasoup parameters for WHIP (browser/OBS offers to send) and WHEP (viewers offer to receive).
// Parsing and writing go through sdp-transform; this module only maps fields. The SFU is ICE-lite and
// answers every offer in one bundled transport, without trickle.
import { randomUUID } from 'node:crypto';
import sdpTransform, { type MediaAttributes, type SessionDescription } from 'sdp-transform';
import type { types as ms } from 'mediasoup';
import h264 from 'h264-profile-level-id';
import { AppError } from '../shared/errors.ts';

type Media = SessionDescription['media'][number];
export type Kind = 'audio' | 'video';

export class SdpError extends AppError {
  constructor(message: string) {
    super('bad-request', message);
  }
}

export type ParsedOffer = {
  sdp: SessionDescription;
  dtls: ms.DtlsParameters;
  /** m-sections in offer order; `kind` is null for sections Glint does not carry (data channels …). */
  sections: { media: Media; mid: string; kind: Kind | null }[];
};

/** Parses an offer and its DTLS parameters; throws SdpError (400) for anything unusable. */
export function parseOffer(text: string): ParsedOffer {
  if (!text.trim().startsWith('v=0')) throw new SdpError('The body is not an SDP offer (it must start with "v=0").');
  let sdp: SessionDescription;
  try {
    sdp = sdpTransform.parse(text);
  } catch {
    throw new SdpError('The SDP offer could not be parsed.');
  }
  if (!sdp.media?.length) throw new SdpError('The SDP offer has no media sections.');
  const fp = sdp.fingerprint ?? sdp.media.find((m) => m.fingerprint)?.fingerprint;
  if (!fp) throw new SdpError('The SDP offer has no DTLS fingerprint.');
  const setup = sdp.media.find((m) => m.setup)?.setup ?? sdp.setup ?? 'actpass';
  const sections = sdp.media.map((media, i) => ({
    media,
    mid: String(media.mid ?? i),
    kind: media.type === 'audio' || media.type === 'video' ? (media.type as Kind) : null,
  }));
  return {
    sdp,
    // We answer "passive" (DTLS server) unless the offerer insists on being passive itself.
    dtls: { role: setup === 'passive' ? 'server' : 'client', fingerprints: [{ algorithm: fp.type, value: fp.hash }] },
    sections,
  };
}

function fmtpOf(media: Media, pt: number): Record<string, string | number> {
  const f = media.fmtp?.find((x) => x.payload === pt);
  const params = f ? (sdpTransform.parseParams(f.config) as Record<string, string | number>) : {};
  // sdp-transform reads an all-digit profile-level-id (640028) as a number; it is three hex bytes
  if (typeof params['profile-level-id'] === 'number') params['profile-level-id'] = String(params['profile-level-id']);
  return params;
}

function feedbackOf(media: Media, pt: number): ms.RtcpFeedback[] {
  return (media.rtcpFb ?? [])
    .filter((fb) => fb.payload === '*' || Number(fb.payload) === pt)
    .map((fb) => ({ type: fb.type, parameter: fb.subtype ?? '' }));
}

/** Offered codecs of one m-section as mediasoup codec parameters (RTX included). */
function offeredCodecs(media: Media, kind: Kind): ms.RtpCodecParameters[] {
  return (media.rtp ?? []).map((r) => ({
    mimeType: `${kind}/${r.codec}`,
    payloadType: r.payload,
    clockRate: r.rate ?? (kind === 'audio' ? 48000 : 90000),
    ...(kind === 'audio' ? { channels: Number(r.encoding ?? 1) } : {}),
    parameters: fmtpOf(media, r.payload),
    rtcpFeedback: feedbackOf(media, r.payload),
  }));
}

const isRtx = (c: { mimeType: string }) => /\/rtx$/i.test(c.mimeType);

type CodecLike = { mimeType: string; clockRate: number; parameters?: Record<string, unknown> | undefined };

const PROFILE_NAMES: Record<number, string> = {
  [h264.ProfileConstrainedBaseline]: 'Constrained Baseline',
  [h264.ProfileBaseline]: 'Baseline',
  [h264.ProfileMain]: 'Main',
  [h264.ProfileConstrainedHigh]: 'Constrained High',
  [h264.ProfileHigh]: 'High',
  [h264.ProfilePredictiveHigh444]: 'Predictive High 4:4:4',
};

/** The H.264 profile a codec's profile-level-id denotes (RFC 6184 §8.1), by name; undefined when it denotes none. */
export function h264Profile(c: CodecLike): string | undefined {
  const parsed = h264.parseSdpProfileLevelId(c.parameters ?? {}) as h264.ProfileLevelId | null;
  return parsed ? PROFILE_NAMES[parsed.profile] : undefined;
}

const packetizationMode = (c: CodecLike) => Number(c.parameters?.['packetization-mode'] ?? 0);

/**
 * The same codec for forwarding purposes: mime and clock rate; for H.264 also packetization-mode and the profile
 * the profile-level-id denotes (profile_idc and constraint flags together: 42c01f, 42e01f and 4d401f are all
 * Constrained Baseline), matched as mediasoup itself matches them.
 */
export function sameCodec(a: CodecLike, b: CodecLike): boolean {
  if (a.mimeType.toLowerCase() !== b.mimeType.toLowerCase() || a.clockRate !== b.clockRate) return false;
  if (/\/rtx$/i.test(a.mimeType)) return Number(a.parameters?.apt) === Number(b.parameters?.apt);
  if (!/h264/i.test(a.mimeType)) return true;
  return packetizationMode(a) === packetizationMode(b) && h264.isSameProfile(a.parameters ?? {}, b.parameters ?? {});
}

/** A codec in words for an error message: "VP9", "H.264 High (profile-level-id 64001f, packetization-mode 0)". */
function describeCodec(c: CodecLike): string {
  // the names come from a stranger's offer: echoed back short
  const clip = (v: unknown) => String(v).slice(0, 24);
  const name = clip(c.mimeType.split('/')[1] ?? c.mimeType);
  if (!/h264/i.test(c.mimeType)) return /^opus$/i.test(name) ? 'Opus' : name.toUpperCase();
  const plid = c.parameters?.['profile-level-id'];
  const details = [plid === undefined ? 'no profile-level-id' : `profile-level-id ${clip(plid)}`, `packetization-mode ${clip(c.parameters?.['packetization-mode'] ?? 0)}`];
  return `H.264 ${h264Profile(c) ?? 'of an unknown profile'} (${details.join(', ')})`;
}

/** What the router forwards of one kind, in words: "VP8, H.264 Constrained Baseline, Baseline, Main (packetization-mode 1)". */
function describeAccepted(caps: ms.RtpCapabilities, kind: Kind): string {
  const codecs = (caps.codecs ?? []).filter((c) => c.kind === kind && !isRtx(c));
  const plain = [...new Set(codecs.filter((c) => !/h264/i.test(c.mimeType)).map(describeCodec))];
  const h264Codecs = codecs.filter((c) => /h264/i.test(c.mimeType));
  const profiles = [...new Set(h264Codecs.map((c) => h264Profile(c) ?? '?'))];
  const modes = [...new Set(h264Codecs.map(packetizationMode))];
  if (profiles.length) plain.push(`H.264 ${profiles.join(', ')} (packetization-mode ${modes.join(' or ')})`);
  return plain.join(', ') || 'none';
}

/** Does the router support this codec? */
function routerSupports(caps: ms.RtpCapabilities, c: ms.RtpCodecParameters): boolean {
  return (caps.codecs ?? []).some((rc) => !isRtx(rc) && sameCodec(rc, c));
}

/**
 * What a publisher's m-section produces: the first offered codec the router supports (offer order is the sender's
 * preference), its RTX, the header extensions the router knows, and simulcast layers (rids) or SSRCs.
 */
export function producerParameters(media: Media, kind: Kind, mid: string, caps: ms.RtpCapabilities): ms.RtpParameters {
  const codecs = offeredCodecs(media, kind);
  const main = codecs.find((c) => !isRtx(c) && routerSupports(caps, c));
  if (!main) {
    const offered = [...new Set(codecs.filter((c) => !isRtx(c)).map(describeCodec))].slice(0, 8).join(', ') || 'none';
    throw new SdpError(`No ${kind} codec Glint can forward was offered (offered: ${offered}; accepted: ${describeAccepted(caps, kind)}).`);
  }
  const rtx = codecs.find((c) => isRtx(c) && Number(c.parameters?.apt) === main.payloadType);
  const extUris = new Set((caps.headerExtensions ?? []).filter((h) => h.kind === kind).map((h) => h.uri));
  const headerExtensions = (media.ext ?? [])
    .filter((e) => extUris.has(e.uri))
    .map((e) => ({ uri: e.uri, id: e.value }));

  const cname = media.ssrcs?.find((s) => s.attribute === 'cname')?.value;
  let encodings: ms.RtpEncodingParameters[];
  const sendRids = (media.rids ?? []).filter((r) => r.direction === 'send');
  if (sendRids.length > 1) {
    encodings = sendRids.map((r) => ({ rid: String(r.id) }));
  } else {
    const fid = media.ssrcGroups?.find((g) => g.semantics === 'FID')?.ssrcs.split(' ').map(Number);
    const ssrc = fid?.[0] ?? media.ssrcs?.[0]?.id;
    if (ssrc === undefined) throw new SdpError(`The ${kind} section (mid ${mid}) has neither SSRCs nor simulcast rids.`);
    encodings = [{ ssrc: Number(ssrc), ...(rtx && fid?.[1] ? { rtx: { ssrc: fid[1] } } : {}) }];
  }
  return {
    mid,
    codecs: rtx ? [main, rtx] : [main],
    headerExtensions,
    encodings,
    rtcp: { ...(cname ? { cname } : {}), reducedSize: true },
  };
}

/** A viewer's receive capabilities from its offer (payload types and extension ids as the viewer numbered them). */
export function consumerCapabilities(offer: ParsedOffer): ms.RtpCapabilities {
  const codecs: ms.RtpCodecCapability[] = [];
  const headerExtensions: ms.RtpHeaderExtension[] = [];
  for (const { media, kind } of offer.sections) {
    if (!kind) continue;
    for (const c of offeredCodecs(media, kind)) {
      codecs.push({
        kind,
        mimeType: c.mimeType,
        preferredPayloadType: c.payloadType,
        clockRate: c.clockRate,
        ...(c.channels ? { channels: c.channels } : {}),
        parameters: c.parameters,
        rtcpFeedback: c.rtcpFeedback,
      });
    }
    for (const e of media.ext ?? []) {
      headerExtensions.push({ kind, uri: e.uri, preferredId: e.value, direction: 'sendrecv' });
    }
  }
  return { codecs, headerExtensions };
}

type TransportInfo = { iceParameters: ms.IceParameters; iceCandidates: ms.IceCandidate[]; dtlsParameters: ms.DtlsParameters };

function codecLines(rtp: ms.RtpParameters) {
  return {
    payloads: rtp.codecs.map((c) => c.payloadType).join(' '),
    rtp: rtp.codecs.map((c) => ({
      payload: c.payloadType,
      codec: c.mimeType.split('/')[1]!,
      rate: c.clockRate,
      ...(c.channels && c.channels > 1 ? { encoding: c.channels } : {}),
    })),
    fmtp: rtp.codecs
      .filter((c) => c.parameters && Object.keys(c.parameters).length)
      .map((c) => ({ payload: c.payloadType, config: Object.entries(c.parameters!).map(([k, v]) => `${k}=${v}`).join(';') })),
    rtcpFb: rtp.codecs.flatMap((c) =>
      (c.rtcpFeedback ?? []).map((fb) => ({ payload: c.payloadType, type: fb.type, ...(fb.parameter ? { subtype: fb.parameter } : {}) })),
    ),
    ext: (rtp.headerExtensions ?? []).map((h) => ({ value: h.id, uri: h.uri })),
  };
}

/** One answer m-section. `rtp` undefined rejects the section (port 0), keeping its mid as RFC 8843 requires. */
export type AnswerSection =
  | { mid: string; media: Media; direction: 'recvonly'; rtp: ms.RtpParameters; simulcastRids?: string[] }
  | { mid: string; media: Media; direction: 'sendonly'; rtp: ms.RtpParameters; msid: string }
  | { mid: string; media: Media; rejected: true };

/** Writes the SDP answer for one transport and its sections. */
export function writeAnswer(transport: TransportInfo, sections: AnswerSection[]): string {
  const fp = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? transport.dtlsParameters.fingerprints[0]!;
  const accepted = sections.filter((s) => !('rejected' in s));
  const ip = transport.iceCandidates[0]?.ip ?? '127.0.0.1';
  const media = sections.map((s): Media => {
    const base = {
      type: s.media.type,
      protocol: s.media.protocol,
      mid: s.mid,
      connection: { version: ip.includes(':') ? 6 : 4, ip },
    };
    if ('rejected' in s) {
      return { ...base, port: 0, payloads: String(s.media.rtp?.[0]?.payload ?? s.media.payloads ?? '0'), rtp: [], fmtp: [], direction: 'inactive' } as Media;
    }
    const lines = codecLines(s.rtp);
    const m: Media & MediaAttributes = {
      ...base,
      port: 7,
      ...lines,
      direction: s.direction,
      iceUfrag: transport.iceParameters.usernameFragment,
      icePwd: transport.iceParameters.password,
      fingerprint: { type: fp.algorithm, hash: fp.value },
      setup: 'passive',
      rtcpMux: 'rtcp-mux',
      rtcpRsize: 'rtcp-rsize',
      candidates: transport.iceCandidates.map((c) => ({
        foundation: c.foundation,
        component: 1,
        transport: c.protocol,
        priority: c.priority,
        ip: c.ip,
        port: c.port,
        type: c.type,
        ...(c.tcpType ? { tcptype: c.tcpType } : {}),
      })),
      endOfCandidates: 'end-of-candidates',
    } as Media & MediaAttributes;
    if (s.direction === 'recvonly' && s.simulcastRids?.length) {
      m.rids = s.simulcastRids.map((id) => ({ id, direction: 'recv' }));
      m.simulcast = { dir1: 'recv', list1: s.simulcastRids.join(';') };
    }
    if (s.direction === 'sendonly') {
      const enc = s.rtp.encodings?.[0];
      const cname = s.rtp.rtcp?.cname ?? 'glint';
      const [id, appdata] = s.msid.split(' ');
      m.msid = [{ id: id!, ...(appdata ? { appdata } : {}) }];
      m.ssrcs = [];
      for (const ssrc of [enc?.ssrc, enc?.rtx?.ssrc].filter((x): x is number => typeof x === 'number')) {
        m.ssrcs.push({ id: ssrc, attribute: 'cname', value: cname }, { id: ssrc, attribute: 'msid', value: s.msid });
      }
      if (enc?.ssrc && enc.rtx?.ssrc) m.ssrcGroups = [{ semantics: 'FID', ssrcs: `${enc.ssrc} ${enc.rtx.ssrc}` }];
    }
    return m;
  });
  const answer: SessionDescription = {
    version: 0,
    origin: { username: '-', sessionId: Date.now(), sessionVersion: 1, netType: 'IN', ipVer: 4, address: '127.0.0.1' },
    name: '-',
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    groups: accepted.length ? [{ type: 'BUNDLE', mids: accepted.map((s) => s.mid).join(' ') }] : [],
    msidSemantic: { semantic: 'WMS', token: '*' },
    media,
  };
  return sdpTransform.write(answer);
}

export const newStreamId = () => randomUUID();
