// node-media-server's RTMP state machine, bounded. Its parser allocates whatever the peer's headers ask for (a 24-bit
// message length, up to 16 MiB, on each of up to 65,599 chunk streams, after 12 bytes), takes any chunk size
// (0 stalls it), and lets exceptions from its AMF decoder and command handlers escape from parserData(). This subclass
// checks every peer-supplied number before node-media-server acts on it and throws an RtmpProtocolError instead;
// the connection's error boundary (server.ts) closes that one connection.
//
// It also changes the protocol where Glint needs to: the stream key is checked before a publish is acknowledged,
// RTMP playback is refused, and the publisher's own end of stream is heard.
import Rtmp, { type InvokeMessage } from 'node-media-server/src/protocol/rtmp.js';
import nmsLogger from 'node-media-server/src/core/logger.js';
import { AmfError, checkAmf0 } from './amf.ts';

// node-media-server logs with console.log, and what it logs at error level is about peer input ("Unknown command",
// "Unknown field"), so a stranger could fill the log with it. Every failure that matters ends the connection, and
// Glint logs that itself.
nmsLogger.log = () => undefined;

/** Input the RTMP ingest does not accept; the connection is closed with this as the reason. */
export class RtmpProtocolError extends Error {
  override name = 'RtmpProtocolError';
}

const TYPE = { SET_CHUNK_SIZE: 1, ABORT: 2, ACK: 3, WINDOW_ACK: 5, PEER_BANDWIDTH: 6, AUDIO: 8, VIDEO: 9, FLEX_STREAM: 15, FLEX_MESSAGE: 17, DATA: 18, INVOKE: 20 } as const;

/** Commands (connect's object), metadata and control messages: OBS's and FFmpeg's are under 1 KiB. */
export const MAX_COMMAND_BYTES = 64 * 1024;
/** Chunk streams one connection may use: FFmpeg uses 2–6 and 8, OBS 2–7. Each holds a buffer for its message. */
export const MAX_CHUNK_STREAMS = 16;
/** createStream calls answered on one connection (a publisher needs one). */
const MAX_STREAMS = 4;
/** The chunk size a peer may set: at least one byte, at most the largest message (24-bit length). */
const MAX_CHUNK_SIZE = 0xffffff;

export type RtmpProtocolLimits = {
  /** the largest audio or video message (one frame) accepted once a publish is accepted */
  maxMediaBytes: number;
};

export class RtmpProtocol extends Rtmp {
  /** A publish was accepted: from now on audio and video may be as large as `maxMediaBytes`. */
  mediaAccepted = false;
  onPublishRequest: (streamName: string, app: string) => void = () => undefined;
  onPlayRequest: () => void = () => undefined;
  onUnpublish: () => void = () => undefined;

  constructor(private readonly limits: RtmpProtocolLimits) {
    super();
    // node-media-server gives every connection an FLV demuxer with a 1 MiB buffer that its RTMP parser never uses
    (this as { flv?: unknown }).flv = undefined;
  }

  /** Before the message is assembled: no new length or type on a message half received, and few chunk streams. */
  override packetParse(): void {
    const cid = chunkStreamId(this.parserBuffer, this.parserBasicBytes);
    const before = this.inPackets.get(cid);
    const inProgress = before && before.bytes > 0 ? { length: before.header.length, type: before.header.type } : undefined;
    if (!before && this.inPackets.size >= MAX_CHUNK_STREAMS) throw new RtmpProtocolError(`more than ${MAX_CHUNK_STREAMS} chunk streams`);
    super.packetParse();
    const { header } = this.parserPacket;
    // node-media-server takes a type 0 or 1 header in the middle of a message as the new length, and allocates for
    // a message only at its first chunk: the rest would be assembled in a buffer sized for another message
    if (inProgress && (header.length !== inProgress.length || header.type !== inProgress.type)) {
      throw new RtmpProtocolError(`chunk stream ${cid} changed its message length or type before the message was complete`);
    }
  }

  /** The first chunk of a message: its length is bounded before node-media-server allocates a buffer for it. */
  override packetAlloc(): void {
    const { length, type } = this.parserPacket.header;
    const media = type === TYPE.AUDIO || type === TYPE.VIDEO;
    const max = media && this.mediaAccepted ? this.limits.maxMediaBytes : MAX_COMMAND_BYTES;
    if (length > max) {
      const what = media ? (this.mediaAccepted ? 'audio or video message' : 'audio or video message before the publish is accepted') : `message of type ${type}`;
      throw new RtmpProtocolError(`a ${length}-byte ${what} (at most ${max})`);
    }
    // the buffers only grow (one per chunk stream, sized length + 1 KiB): bound what one connection holds in all
    // of them, counting the one about to be allocated
    const { capacity } = this.parserPacket;
    let held = capacity < length ? length + 1024 - capacity : 0;
    for (const p of this.inPackets.values()) held += p.capacity;
    const most = 2 * this.limits.maxMediaBytes + MAX_CHUNK_STREAMS * (MAX_COMMAND_BYTES + 1024);
    if (held > most) throw new RtmpProtocolError(`${held} bytes of message buffers (at most ${most})`);
    super.packetAlloc();
  }

  override controlHandler(): void {
    const { type, length } = this.parserPacket.header;
    if (length < 4) throw new RtmpProtocolError(`a ${length}-byte protocol control message of type ${type}`);
    if (type === TYPE.SET_CHUNK_SIZE) {
      const size = this.parserPacket.payload.readUInt32BE(0);
      if (size < 1 || size > MAX_CHUNK_SIZE) throw new RtmpProtocolError(`chunk size ${size} (1 to ${MAX_CHUNK_SIZE})`);
      this.inChunkSize = size;
      return;
    }
    if (type === TYPE.ABORT) {
      // node-media-server ignores it; the message half received on that chunk stream is dropped, as the spec says
      const aborted = this.inPackets.get(this.parserPacket.payload.readUInt32BE(0));
      if (aborted && aborted !== this.parserPacket) aborted.bytes = 0;
      return;
    }
    super.controlHandler();
  }

  override invokeHandler(): void {
    const offset = this.parserPacket.header.type === TYPE.FLEX_MESSAGE ? 1 : 0;
    this.checkAmf(this.parserPacket.payload.subarray(offset, this.parserPacket.header.length));
    super.invokeHandler();
  }

  /** Audio, video and metadata: too short to read (node-media-server indexes into them unchecked) is dropped. */
  override dataHandler(): void {
    const { type, length } = this.parserPacket.header;
    const payload = this.parserPacket.payload;
    if (type === TYPE.FLEX_STREAM) return; // AMF3 data: nothing Glint reads
    if (type === TYPE.AUDIO && length < 2) return;
    if (type === TYPE.VIDEO && (length < 5 || ((payload[0]! & 0x80) !== 0 && length < 8))) return; // legacy header 5 bytes, enhanced 8
    if (type === TYPE.DATA) this.checkAmf(payload.subarray(0, length));
    super.dataHandler();
  }

  override onConnect(msg: InvokeMessage): void {
    if (this.connectCmdObj) throw new RtmpProtocolError('a second connect command');
    const o = msg.cmdObj;
    if (!o || typeof o !== 'object' || Array.isArray(o)) throw new RtmpProtocolError('a connect command without its command object');
    const { app, tcUrl, objectEncoding } = o as Record<string, unknown>;
    if (typeof app !== 'string') throw new RtmpProtocolError('a connect command without an app name');
    if (typeof tcUrl !== 'string' || !URL.canParse(tcUrl)) throw new RtmpProtocolError('a connect command without a valid tcUrl');
    // node-media-server echoes objectEncoding back: only the two numbers it can mean
    super.onConnect({ ...msg, cmdObj: { ...o, objectEncoding: objectEncoding === 3 ? 3 : 0 } });
  }

  override onCreateStream(msg: InvokeMessage): void {
    if (this.streams >= MAX_STREAMS) throw new RtmpProtocolError(`more than ${MAX_STREAMS} createStream commands`);
    super.onCreateStream(msg);
  }

  /** node-media-server acknowledges a publish before it tells anyone; Glint checks the key first and answers then. */
  override onPublish(msg: InvokeMessage): void {
    if (this.streamApp === undefined) throw new RtmpProtocolError('a publish command before connect');
    if (typeof msg.streamName !== 'string') throw new RtmpProtocolError('a publish command without a stream name');
    this.streamName = msg.streamName.split('?')[0]!;
    this.streamId = this.parserPacket.header.stream_id;
    this.onPublishRequest(this.streamName, this.streamApp);
  }

  override onPlay(): void {
    this.streamId = this.parserPacket.header.stream_id;
    this.onPlayRequest();
  }

  override onDeleteStream(): void {
    this.onUnpublish();
  }

  private checkAmf(buf: Buffer): void {
    try {
      checkAmf0(buf);
    } catch (err) {
      if (err instanceof AmfError) throw new RtmpProtocolError(err.message);
      throw err;
    }
  }

}

/** The chunk stream id as node-media-server computes it (its 3-byte form is not the spec's, but it is the key it uses). */
function chunkStreamId(basic: Buffer, basicBytes: number): number {
  if (basicBytes === 2) return 64 + basic[1]!;
  if (basicBytes === 3) return (64 + basic[1]! + basic[2]!) << 8;
  return basic[0]! & 0x3f;
}
