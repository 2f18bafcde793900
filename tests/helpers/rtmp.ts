// RTMP publishers for the tests: FFmpeg as a streamer's encoder, and a raw RTMP client for hostile-input tests (the
// handshake, chunked messages and AMF0 commands written byte by byte, so a test can send what no well-behaved encoder
// would).
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { encodeAmf0Cmd } from 'node-media-server/src/protocol/amf.js';
import { startProcess, type Child } from './process.ts';

/** FFmpeg as the streamer's encoder: a moving test pattern and a 440 Hz tone, in real time, H.264 + AAC over RTMP. */
export function ffmpegPublisher(url: string, x264: string[]): Child {
  return startProcess('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', ...x264,
    '-c:a', 'aac', '-b:a', '96k',
    '-f', 'flv', url,
  ]);
}

/** RTMP message types used by the tests. */
export const RTMP = { SET_CHUNK_SIZE: 1, WINDOW_ACK: 5, AUDIO: 8, VIDEO: 9, DATA: 18, INVOKE: 20 } as const;

export type RtmpMessage = { cid: number; type: number; streamId?: number; timestamp?: number; payload: Buffer };

/** A chunk's basic header: format and chunk stream id in 1, 2 or 3 bytes. */
export function basicHeader(fmt: number, cid: number): Buffer {
  if (cid < 64) return Buffer.from([(fmt << 6) | cid]);
  if (cid < 320) return Buffer.from([fmt << 6, cid - 64]);
  return Buffer.from([(fmt << 6) | 1, (cid - 64) & 0xff, (cid - 64) >> 8]);
}

/** A type 0 chunk header announcing a message of `length` bytes (the payload is up to the caller). */
export function header0(cid: number, type: number, length: number, streamId = 0, timestamp = 0): Buffer {
  const h = Buffer.alloc(11);
  h.writeUIntBE(Math.min(timestamp, 0xffffff), 0, 3);
  h.writeUIntBE(length, 3, 3);
  h[6] = type;
  h.writeUInt32LE(streamId, 7);
  return Buffer.concat([basicHeader(0, cid), h]);
}

/** The chunks of one message: a type 0 header, then type 3 continuation headers every `chunkSize` bytes. */
export function chunks(m: RtmpMessage, chunkSize = 128): Buffer {
  const parts: Buffer[] = [header0(m.cid, m.type, m.payload.length, m.streamId, m.timestamp)];
  for (let i = 0; i < m.payload.length; i += chunkSize) {
    if (i) parts.push(basicHeader(3, m.cid));
    parts.push(m.payload.subarray(i, i + chunkSize));
  }
  return Buffer.concat(parts);
}

/** An AMF0 command message (connect, createStream, publish, …) on chunk stream 3. */
export const command = (cmd: Record<string, unknown> & { cmd: string }, streamId = 0) =>
  chunks({ cid: 3, type: RTMP.INVOKE, streamId, payload: encodeAmf0Cmd(cmd) });

/** C0 + C1: version 3, then 1536 bytes of time, zero and random (the simple handshake). */
export const c0c1 = () => Buffer.concat([Buffer.from([3]), Buffer.alloc(8), randomBytes(1528)]);

export class RtmpTestClient {
  readonly socket: net.Socket;
  private received = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  /** resolves once the server has closed (or reset) the connection */
  readonly closed: Promise<void>;

  /** `from`: the loopback address to connect from (127.0.0.x), so that tests have separate per-address budgets. */
  constructor(port: number, from = '127.0.0.1') {
    this.socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
    this.socket.on('data', (d) => {
      this.received = Buffer.concat([this.received, d]).subarray(-1 << 20);
      for (const w of this.waiters.splice(0)) w();
    });
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  /** Everything the server has sent so far (the last MiB), as latin1 text to search for AMF strings. */
  get text(): string {
    return this.received.toString('latin1');
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  async connected(): Promise<void> {
    if (this.socket.readyState === 'open') return;
    await new Promise<void>((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('close', () => reject(new Error('connection refused or closed')));
    });
  }

  write(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  /** Waits until the server has sent at least `bytes` bytes, or `timeoutMs` passes (then throws). */
  async receive(bytes: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < bytes) {
      if (this.socket.destroyed) throw new Error(`closed after ${this.received.length} of ${bytes} bytes`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`received ${this.received.length} of ${bytes} bytes`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  /** Waits until the server's output contains `s` (an AMF string such as `NetStream.Publish.Start`). */
  async saw(s: string, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.text.includes(s)) {
      if (this.socket.destroyed || Date.now() > deadline) return this.text.includes(s);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
    return true;
  }

  /** The simple handshake: C0 C1, wait for S0 S1 S2, then C2 (S1 echoed). */
  async handshake(): Promise<void> {
    await this.connected();
    this.write(c0c1());
    await this.receive(1 + 1536 * 2);
    this.write(this.received.subarray(1, 1537));
  }

  /** Resolves true when the server closes the connection within `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs))]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The `connect` command OBS and FFmpeg send first. */
export const connectCommand = (port: number, app = 'live') =>
  command({ cmd: 'connect', transId: 1, cmdObj: { app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)', tcUrl: `rtmp://127.0.0.1:${port}/${app}` } });

/** connect, createStream and publish with `key` as the stream name. */
export function publishCommands(port: number, key: string): Buffer {
  return Buffer.concat([
    connectCommand(port),
    command({ cmd: 'createStream', transId: 2, cmdObj: null }),
    command({ cmd: 'publish', transId: 3, cmdObj: null, streamName: key, type: 'live' }, 1),
  ]);
}
