// WHIP publishing client (RFC 9725): send-only transceivers, optional simulcast and codec preference.
import { negotiate } from './negotiate.ts';

/** `resource`: the WHIP session's URL (its Location), which the same bearer token may read the SFU's stats of. */
export type Publication = { pc: RTCPeerConnection; resource: string | null; stop(): Promise<void> };

export const SIMULCAST_LAYERS: RTCRtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', maxBitrate: 2_500_000 },
];

export async function publish(opts: { slug: string; token: string; stream: MediaStream; codec: 'VP8' | 'H264'; simulcast: boolean }): Promise<Publication> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  for (const track of opts.stream.getTracks()) {
    const video = track.kind === 'video';
    const t = pc.addTransceiver(track, { direction: 'sendonly', streams: [opts.stream], ...(video && opts.simulcast ? { sendEncodings: SIMULCAST_LAYERS } : {}) });
    if (video) {
      const codecs = RTCRtpSender.getCapabilities('video')?.codecs ?? [];
      const wanted = `video/${opts.codec}`;
      t.setCodecPreferences([...codecs.filter((c) => c.mimeType === wanted), ...codecs.filter((c) => c.mimeType !== wanted)]);
    }
  }
  const session = await negotiate(pc, `/whip/${encodeURIComponent(opts.slug)}`, { authorization: `Bearer ${opts.token}` });
  return { pc, resource: session.location, stop: session.stop };
}

/** What the browser sends, sampled: video bits/s since `prev`, frames/s, the highest layer's size, and what the SFU's
 * receiver reports back (packets lost in all, round-trip time in ms). */
export async function outgoing(pc: RTCPeerConnection, prev?: { bytes: number; at: number }) {
  let bytes = 0;
  let width = 0;
  let height = 0;
  let fps = 0;
  let packetsLost = 0;
  let packetsSent = 0;
  let rttMs: number | null = null;
  type Stat = { type: string; kind?: string; bytesSent?: number; packetsSent?: number; frameWidth?: number; frameHeight?: number; framesPerSecond?: number; packetsLost?: number; roundTripTime?: number; currentRoundTripTime?: number; nominated?: boolean; state?: string };
  (await pc.getStats()).forEach((s: Stat) => {
    if (s.type === 'outbound-rtp') packetsSent += s.packetsSent ?? 0;
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      bytes += s.bytesSent ?? 0;
      if ((s.frameWidth ?? 0) > width) {
        width = s.frameWidth ?? 0;
        height = s.frameHeight ?? 0;
        fps = s.framesPerSecond ?? 0;
      }
    }
    if (s.type === 'remote-inbound-rtp') {
      packetsLost += Math.max(0, s.packetsLost ?? 0);
      if (s.roundTripTime !== undefined) rttMs = Math.max(rttMs ?? 0, s.roundTripTime * 1000);
    }
    // the SFU is ICE-lite and may send no RTCP receiver reports for a track yet: the ICE pair's RTT stands in
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && rttMs === null && s.currentRoundTripTime !== undefined) rttMs = s.currentRoundTripTime * 1000;
  });
  const at = performance.now();
  const bitrate = prev && at > prev.at ? ((bytes - prev.bytes) * 8 * 1000) / (at - prev.at) : 0;
  return { bytes, at, bitrate, width, height, fps, packetsLost, packetsSent, rttMs };
}
