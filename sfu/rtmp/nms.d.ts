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
  export default class Rtmp {
    streamApp: string;
    streamName: string;
    streamId: number;
    parserPacket: { header: { stream_id: number } };
    onConnectCallback: (req: { app: string; name: string; host: string; query: Record<string, unknown> }) => void;
    onPlayCallback: () => void;
    onPushCallback: () => void;
    onPacketCallback: (packet: AVPacket) => void;
    onOutputCallback: (buffer: Buffer) => void;
    /** Feeds bytes from the socket; returns an error message when the stream is not RTMP. */
    parserData(buffer: Buffer): string | null | undefined;
    respondPublish(): void;
    sendStatusMessage(sid: number, level: string, code: string, description: string): void;
    onPublish(invokeMessage: { streamName: string; transId: number }): void;
    onPlay(invokeMessage: { streamName: string; transId: number }): void;
    onDeleteStream(invokeMessage: unknown): void;
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
  const logger: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' };
  export default logger;
}

declare module 'node-media-server/src/protocol/amf.js' {
  /** Decodes an AMF0 data message such as `@setDataFrame onMetaData {…}`. */
  export function decodeAmf0Data(data: Buffer): { cmd: string; dataObj?: Record<string, unknown> } & Record<string, unknown>;
}
