// What an ingest (the RTMP server) and a room say to each other, in a file of its own so that neither imports the
// other: the RTMP server drives a room through IngestRoom and follows its events, and the room shows how its
// broadcast comes in.
import type { EventEmitter } from 'node:events';
import type { types as ms } from 'mediasoup';

/** How an RTMP broadcast is bridged, shown on the live session (for the streamer and the operator). */
export type IngestInfo = { source: 'rtmp'; video: 'copy' | 'transcode' | 'none'; reason?: string };

/** What an RTP sender outside WebRTC (the RTMP bridge's FFmpeg) sends for one track. */
export type PlainTrack = { kind: ms.MediaKind; codec: ms.RtpCodecParameters; ssrc: number };

/** A room's events (Room.ts). */
export type RoomEvents = {
  /** the publisher's session ended (DELETE, ICE/DTLS failure); the room closes right after */
  'publisher-gone': [reason: string];
  /** the publisher's connection dropped; the room waits publishGraceMs for it to come back */
  'publisher-lost': [reason: string];
  /** a publisher reconnected within the grace period: same broadcast, same live session */
  'publisher-back': [];
  'viewers-changed': [count: number];
  close: [];
};

/** The room as an RTMP publisher's connection drives it. */
export interface IngestRoom extends EventEmitter<RoomEvents> {
  readonly isClosed: boolean;
  publisherLost(sessionId: string, reason: string): void;
  endPublisher(sessionId: string, reason?: string): boolean;
}
