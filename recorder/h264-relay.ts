// A relay between the SFU and the recording's FFmpeg for a video track, so that an H.264 picture reaches FFmpeg as
// one access unit whatever the publisher's payloader did.
//
// FFmpeg's RTP demuxer leaves access-unit boundaries to its H.264 parser, which (as H.264 7.4.1.2.3 says) starts a
// new access unit at a sequence or picture parameter set or an access unit delimiter that follows a slice. Some
// payloaders repeat the parameter sets before every IDR *slice*, not every IDR picture — GStreamer's rtph264pay with
// config-interval=-1 does, and x264 with sliced threads (zerolatency) makes several slices per picture — so the parser
// cut each keyframe in two: half a picture, then the rest stamped one tick later (a corrupt frame and a non-monotonic
// timestamp at every keyframe of the VoD). The relay drops SPS, PPS and AUD NAL units that come after a slice of the
// same picture (same RTP timestamp), inside STAP-A packets too, and renumbers the packets after a dropped one so
// that FFmpeg sees no loss. Anything else — other codecs, RTCP, malformed packets — passes through unchanged.
// (The relay itself, which also puts packets back in order and holds them while FFmpeg starts, is rtp-relay.ts.)
const RTP_HEADER = 12;
const SPS = 7;
const PPS = 8;
const AUD = 9;
const STAP_A = 24;
const FU_A = 28;
const isSlice = (type: number) => type >= 1 && type <= 5;
const isRepeatable = (type: number) => type === SPS || type === PPS || type === AUD;

/** Rewrites one H.264 RTP stream packet by packet (pure: the relay below owns the socket). */
export class H264AccessUnits {
  private timestamp: number | undefined;
  /** a slice of the picture at `timestamp` has been passed on */
  private sliced = false;
  /** packets dropped so far: later sequence numbers move down by as many */
  private dropped = 0;

  /** The packet to send on (maybe rewritten), or null to drop it. */
  rewrite(packet: Buffer): Buffer | null {
    if (packet.length < RTP_HEADER + 1 || packet[0]! >> 6 !== 2) return packet;
    const csrcs = packet[0]! & 0x0f;
    let offset = RTP_HEADER + csrcs * 4;
    if (packet[0]! & 0x10) {
      if (packet.length < offset + 4) return packet;
      offset += 4 + packet.readUInt16BE(offset + 2) * 4;
    }
    const padded = (packet[0]! & 0x20) !== 0;
    const end = padded ? packet.length - packet[packet.length - 1]! : packet.length;
    if (offset >= end) return packet;
    const timestamp = packet.readUInt32BE(4);
    if (timestamp !== this.timestamp) {
      this.timestamp = timestamp;
      this.sliced = false;
    }
    const type = packet[offset]! & 0x1f;
    let out: Buffer | null = packet;
    if (isSlice(type)) this.sliced = true;
    else if (isRepeatable(type)) out = this.sliced ? null : packet;
    else if (type === FU_A) {
      if (offset + 1 < end && isSlice(packet[offset + 1]! & 0x1f)) this.sliced = true;
    } else if (type === STAP_A) out = this.stapA(packet, offset, end);
    if (!out) {
      this.dropped++;
      return null;
    }
    if (this.dropped) {
      if (out === packet) out = Buffer.from(packet);
      out.writeUInt16BE((packet.readUInt16BE(2) - this.dropped) & 0xffff, 2);
    }
    return out;
  }

  /** A STAP-A without the parameter sets repeated after a slice (null when nothing is left). */
  private stapA(packet: Buffer, offset: number, end: number): Buffer | null {
    const kept: Buffer[] = [];
    let changed = false;
    for (let at = offset + 1; at + 2 <= end; ) {
      const size = packet.readUInt16BE(at);
      if (size === 0 || at + 2 + size > end) return packet; // malformed: FFmpeg decides
      const type = packet[at + 2]! & 0x1f;
      if (isRepeatable(type) && this.sliced) changed = true;
      else {
        if (isSlice(type)) this.sliced = true;
        kept.push(packet.subarray(at, at + 2 + size));
      }
      at += 2 + size;
    }
    if (!changed) return packet;
    if (!kept.length) return null;
    const header = Buffer.from(packet.subarray(0, offset + 1));
    header[0]! &= ~0x20; // the padding is not copied
    return Buffer.concat([header, ...kept]);
  }
}
