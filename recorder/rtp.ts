// The recording's RTP plumbing on this host: the port pairs FFmpeg listens on, the SDP it reads them with, waiting
// until it listens, and the RTCP BYE that ends its input.
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { write as writeSdp, type SessionDescription } from 'sdp-transform';
import type { RecordedTrack, RtpTargets } from '../shared/recorder-protocol.ts';

/** A track as FFmpeg receives it: what the SFU sends, on FFmpeg's port for its kind (RTCP on the next one). */
export type ListenedTrack = RecordedTrack & { port: number };

/** An even port whose successor is free too (RTP and RTCP for one track), both on the loopback address. */
export async function portPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(0, '127.0.0.1', () => resolve(probe.address().port));
    });
    probe.close();
    const even = port % 2 === 0 ? port : port + 1;
    const ok = await Promise.all([even, even + 1].map((p) => new Promise<boolean>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(p, '127.0.0.1', () => s.close(() => resolve(true)));
    })));
    if (ok.every(Boolean)) return even;
  }
  throw new Error('no free UDP port pair for the recorder');
}

/** UDP sockets on this host, each port with the bytes waiting unread in it (Linux: /proc/net/udp; null where it
 * cannot be read). */
async function udpSockets(): Promise<Map<number, number> | null> {
  const text = await readFile('/proc/net/udp', 'utf8').catch(() => null);
  if (text === null) return null;
  const sockets = new Map<number, number>();
  for (const line of text.split('\n').slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue …
    const [, local, , , queues] = line.trim().split(/\s+/);
    if (local && queues) sockets.set(Number.parseInt(local.split(':')[1]!, 16), Number.parseInt(queues.split(':')[1]!, 16));
  }
  return sockets;
}

/** UDP ports bound on this host (null where it cannot be read). */
async function boundUdpPorts(): Promise<Set<number> | null> {
  const sockets = await udpSockets();
  return sockets && new Set(sockets.keys());
}

/** Resolves once nothing waits unread in these ports' sockets (or after `timeoutMs`; at once where it cannot be read). */
export async function untilRead(ports: number[], timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    const sockets = await udpSockets();
    if (!sockets || ports.every((p) => !sockets.get(p))) return;
  }
}

/** Resolves once FFmpeg listens on every port (or after `timeoutMs`): RTP sent earlier would be lost, keyframe first. */
export async function untilListening(ports: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const bound = await boundUdpPorts();
    if (!bound) return new Promise((r) => setTimeout(r, 300)); // no /proc: FFmpeg has its ports within ~300 ms
    if (ports.every((p) => bound.has(p)) || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The SDP FFmpeg reads to receive the tracks (written with sdp-transform). */
export function sdpFor(tracks: ListenedTrack[]): string {
  const session: SessionDescription = {
    version: 0,
    origin: { username: '-', sessionId: 0, sessionVersion: 0, netType: 'IN', ipVer: 4, address: '127.0.0.1' },
    name: 'Glint recording',
    connection: { version: 4, ip: '127.0.0.1' },
    timing: { start: 0, stop: 0 },
    media: tracks.map((t) => {
      const fmtp = Object.entries(t.parameters).map(([k, v]) => `${k}=${v}`).join(';');
      return {
        type: t.kind,
        port: t.port,
        protocol: 'RTP/AVP',
        payloads: String(t.payloadType),
        rtp: [{ payload: t.payloadType, codec: t.mimeType.split('/')[1]!, rate: t.clockRate, ...(t.channels ? { encoding: t.channels } : {}) }],
        fmtp: fmtp ? [{ payload: t.payloadType, config: fmtp }] : [],
        rtcp: { port: t.port + 1 },
        direction: 'recvonly' as const,
      };
    }),
  };
  return writeSdp(session);
}

/**
 * Ends FFmpeg's input the way an RTP sender says goodbye: an RTCP BYE on every track's RTCP port. FFmpeg then ends
 * its input at once, as at the end of a file — it writes the segment in progress and the playlist — instead of
 * waiting for its input to idle out (measured: the VoD is ready ~1 s sooner).
 */
export async function bye(tracks: RecordedTrack[], targets: RtpTargets): Promise<void> {
  const socket = dgram.createSocket('udp4');
  try {
    for (const t of tracks) {
      const target = targets[t.kind];
      if (!target) continue;
      // a compound packet, an empty receiver report then the BYE: FFmpeg drops RTP/RTCP datagrams under 12 bytes
      const packet = Buffer.alloc(16);
      packet.writeUInt8(0x80, 0); // version 2, no report blocks
      packet.writeUInt8(201, 1); // RR
      packet.writeUInt16BE(1, 2); // length in 32-bit words, minus one
      packet.writeUInt32BE(t.ssrc >>> 0, 4);
      packet.writeUInt8(0x81, 8); // version 2, one source
      packet.writeUInt8(203, 9); // BYE
      packet.writeUInt16BE(1, 10);
      packet.writeUInt32BE(t.ssrc >>> 0, 12);
      await new Promise<void>((resolve) => socket.send(packet, target.rtcpPort, target.ip, () => resolve()));
    }
  } finally {
    socket.close();
  }
}
