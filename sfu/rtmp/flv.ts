// What the RTMP bridge reads from FLV tags before choosing between copying H.264 and re-encoding it.
import type AVPacket from 'node-media-server/src/core/avpacket.js';

export const FLV_AUDIO = 8;
export const FLV_VIDEO = 9;
export const FLV_SCRIPT = 18;
export const FLV_CODEC_H264 = 7;

/** node-media-server reuses its payload buffer for the next chunk: keep a private copy of every tag. */
export function ownPacket(p: AVPacket): AVPacket {
  const data = Buffer.from(p.data.subarray(0, p.size));
  return Object.assign(Object.create(Object.getPrototypeOf(p)), p, { data });
}

export const isVideoConfig = (p: AVPacket) => p.codec_type === FLV_VIDEO && p.flags === 2;
export const isKeyframe = (p: AVPacket) => p.codec_type === FLV_VIDEO && p.flags === 3;
export const isVideoFrame = (p: AVPacket) => p.codec_type === FLV_VIDEO && (p.flags === 3 || p.flags === 4);

/**
 * The profile-level-id (RFC 6184) of an AVC sequence header tag: profile_idc, the constraint flags and level_idc
 * from its AVCDecoderConfigurationRecord (the tag's bytes 5–8: version, profile, compatibility, level).
 */
export function avcProfileLevelId(config: AVPacket): string | undefined {
  if (config.codec_id !== FLV_CODEC_H264 || config.data.length < 9 || config.data[5] !== 1) return undefined;
  return config.data.subarray(6, 9).toString('hex');
}

/**
 * Constrained Baseline (profile_idc 66 with constraint_set1) is the H.264 profile every WebRTC browser decodes —
 * Firefox offers nothing else — so only such streams are forwarded as they are.
 */
export function isConstrainedBaseline(profileLevelId: string): boolean {
  const profile = parseInt(profileLevelId.slice(0, 2), 16);
  const constraints = parseInt(profileLevelId.slice(2, 4), 16);
  return profile === 66 && (constraints & 0x40) !== 0;
}

/**
 * A frame whose presentation time differs from its decoding time (FLV's composition time offset) means the stream
 * reorders frames: B-frames, which WebRTC's decoders (and RTP packetization without reordering) cannot play
 * smoothly.
 */
export const reorders = (p: AVPacket) => isVideoFrame(p) && p.pts !== p.dts;

/** The frame rates encoders offer; a measured or declared rate within 2 % of one is taken to be the nearest. */
const STANDARD_RATES = [24000 / 1001, 24, 25, 30000 / 1001, 30, 48, 50, 60000 / 1001, 60];

/**
 * The stream's nominal frame rate: the metadata's `framerate` when it declares one, else the mean spacing of the
 * frames held by the probe — snapped to a standard rate, or undefined when neither is one (a variable rate).
 */
export function frameRateOf(declared: number | undefined, frames: AVPacket[]): number | undefined {
  let fps = declared && Number.isFinite(declared) && declared > 0 ? declared : undefined;
  if (!fps && frames.length >= 2) {
    const span = frames.at(-1)!.dts - frames[0]!.dts;
    if (span > 0) fps = (1000 * (frames.length - 1)) / span;
  }
  if (!fps) return undefined;
  const nearest = STANDARD_RATES.reduce((a, b) => (Math.abs(fps - b) < Math.abs(fps - a) ? b : a));
  return Math.abs(fps - nearest) / nearest < 0.02 ? nearest : undefined;
}
