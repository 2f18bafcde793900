import type { types as ms } from 'mediasoup';

/**
 * What every room's router forwards: Opus audio; VP8 and H.264 video in the profiles browsers decode (Constrained
 * Baseline, Baseline, Main; packetization-mode 1). A publisher's H.264 matches by the profile its profile-level-id
 * denotes, not by its bytes: GStreamer's 42c01f is the same Constrained Baseline as Chromium's 42e01f.
 */
export const MEDIA_CODECS: ms.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: {} },
  { kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 } },
  { kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42001f', 'level-asymmetry-allowed': 1 } },
  { kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '4d0032', 'level-asymmetry-allowed': 1 } },
];
