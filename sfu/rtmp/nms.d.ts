// Types for the parts of node-media-server 4.x that Glint uses: its RTMP protocol state machine and FLV tag writer
// (src/protocol/*.js; the package ships no type declarations).
declare module 'node-media-server/src/core/avpacket.js' {
  /** One FLV tag: codec_type 8 audio, 9 video, 18 script data; flags 0 audio config, 1 audio frame, 2 video config, 3 keyframe, 4 inter frame, 5 metadata. */
  export default class AVPacket {
    codec_id: number;
    codec_type: number;
    flags: number;
    pts: number;
    dts: number;
    size: number;
    data: Buffer;
  }
}

declare module 'node-media-server/src/protocol/rtmp.js' {
  import type AVPacket from 'node-media-server/src/core/avpacket.js';
  /** One chunk stream's message being assembled: its latest header, and the payload buffer filled so far. */
  export type RtmpPacket = {
    header: { fmt: number; cid: number; timestamp: number; length: number; type: number; stream_id: number };
    clock: number;
    payload: Buffer;
    capacity: number;
    bytes: number;
  };
  export type InvokeMessage = { cmd: string; transId: number; cmdObj?: unknown } & Record<string, unknown>;
  export default class Rtmp {
    /** the connect command's app; undefined until a connect */
    streamApp: string | undefined;
    streamName: string;
    streamId: number;
    streams: number;
    inChunkSize: number;
    ackSize: number;
    connectCmdObj: unknown;
    /** the chunk header being read: basic header (parserBasicBytes long), message header, extended timestamp */
    parserBuffer: Buffer;
    parserBasicBytes: number;
    parserPacket: RtmpPacket;
    inPackets: Map<number, RtmpPacket>;
    /** Reads a chunk's basic and message headers from the parser's buffer into its chunk stream's packet. */
    packetParse(): void;
    /** Sizes the packet's payload buffer for the message whose first chunk header was just read. */
    packetAlloc(): void;
    controlHandler(): void;
    invokeHandler(): void;
    dataHandler(): void;
    onConnect(invokeMessage: InvokeMessage): void;
    onCreateStream(invokeMessage: InvokeMessage): void;
    onConnectCallback: (req: { app: string; name: string; host: string; query: Record<string, unknown> }) => void;
    onPlayCallback: () => void;
    onPushCallback: () => void;
    onPacketCallback: (packet: AVPacket) => void;
    onOutputCallback: (buffer: Buffer) => void;
    /** Feeds bytes from the socket; returns an error message when the stream is not RTMP. */
    parserData(buffer: Buffer): string | null | undefined;
    respondPublish(): void;
    sendStatusMessage(sid: number, level: string, code: string, description: string): void;
    onPublish(invokeMessage: InvokeMessage): void;
    onPlay(invokeMessage: InvokeMessage): void;
    onDeleteStream(invokeMessage: InvokeMessage): void;
  }
}

declare module 'node-media-server/src/protocol/flv.js' {
  import type AVPacket from 'node-media-server/src/core/avpacket.js';
  export default class Flv {
    static createHeader(hasAudio: boolean, hasVideo: boolean): Buffer;
    static createMessage(packet: AVPacket): Buffer;
  }
}

declare module 'node-media-server/src/core/logger.js' {
  const logger: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error'; log(message: string, level?: string): void };
  export default logger;
}

declare module 'node-media-server/src/protocol/amf.js' {
  /** Decodes an AMF0 data message such as `@setDataFrame onMetaData {…}`. */
  export function decodeAmf0Data(data: Buffer): { cmd: string; dataObj?: Record<string, unknown> } & Record<string, unknown>;
  /** Decodes an AMF0 command message (`connect`, `publish`, …) into its named fields. */
  export function decodeAmf0Cmd(data: Buffer): { cmd: string } & Record<string, unknown>;
  /** Encodes an AMF0 command message (`{ cmd: 'connect', transId, cmdObj, … }`); tests use it to speak RTMP. */
  export function encodeAmf0Cmd(opt: Record<string, unknown> & { cmd: string }): Buffer;
  /** Encodes an AMF0 data message (`{ cmd: '@setDataFrame', method: 'onMetaData', dataObj }`). */
  export function encodeAmf0Data(opt: Record<string, unknown> & { cmd: string }): Buffer;
}
