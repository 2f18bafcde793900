// WHIP publishing client (RFC 9725): send-only transceivers, optional simulcast and codec preference.
import { negotiate } from './negotiate.ts';

export type Publication = { pc: RTCPeerConnection; stop(): Promise<void> };

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
  return { pc, stop: session.stop };
}

/** Outgoing video bitrate (bits/s since the previous sample) and the highest layer's resolution. */
export async function outgoing(pc: RTCPeerConnection, prev?: { bytes: number; at: number }) {
  let bytes = 0;
  let width = 0;
  let height = 0;
  (await pc.getStats()).forEach((s: { type: string; kind?: string; bytesSent?: number; frameWidth?: number; frameHeight?: number }) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      bytes += s.bytesSent ?? 0;
      if ((s.frameWidth ?? 0) > width) {
        width = s.frameWidth ?? 0;
        height = s.frameHeight ?? 0;
      }
    }
  });
  const at = performance.now();
  const bitrate = prev && at > prev.at ? ((bytes - prev.bytes) * 8 * 1000) / (at - prev.at) : 0;
  return { bytes, at, bitrate, width, height };
}
