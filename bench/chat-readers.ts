// One process of chat readers for bench/chat.ts: holds socket.io-client connections to one channel and records every
// message's delivery latency, so that decoding 2,000 readers' frames spreads over processes rather than queueing on
// one event loop (where it, not the API, would be what the benchmark measures). A message's text is its send time on
// the monotonic clock (process.hrtime), which every process of the machine shares. Driven over the IPC channel:
// { connect: bases, count } connects count readers spread over the bases (50 at a time) and answers { connected };
// { collect: true } answers { latencies } (every delivery so far, ms) and forgets them; { stop: true } disconnects
// and exits.
// Run by bench/chat.ts as: node --import tsx bench/chat-readers.ts <channel>
import { io, type Socket } from 'socket.io-client';

export type ReadersRequest = { connect: string[]; count: number } | { collect: true } | { stop: true };
export type ReadersReply = { connected: number } | { latencies: Float64Array };

/** Now on the monotonic clock every process of the machine shares, in ms. */
export const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

/** Connects one socket.io client and joins the channel; `cookie` signs it in. */
export function joinChat(base: string, channel: string, cookie?: string): Promise<Socket> {
  const s = io(base, { path: '/socket.io', transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { origin: base, ...(cookie ? { cookie } : {}) } });
  return new Promise((resolve, reject) => {
    s.once('connect', () => s.timeout(30_000).emitWithAck('join', { channel }).then(() => resolve(s), reject));
    s.once('connect_error', reject);
  });
}

if (process.send) {
  const [channel] = process.argv.slice(2) as [string];
  const readers: Socket[] = [];
  let latencies = new Float64Array(1 << 16);
  let received = 0;
  const record = (batch: { text: string }[]) => {
    const now = monotonicMs();
    for (const m of batch) {
      if (received === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[received++] = now - Number(m.text);
    }
  };
  const reply = (r: ReadersReply) => process.send!(r);
  process.on('message', async (req: ReadersRequest) => {
    if ('connect' in req) {
      for (let i = 0; i < req.count; i += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, req.count - i) }, (_, k) => joinChat(req.connect[(i + k) % req.connect.length]!, channel)));
        for (const s of batch) s.on('messages', record);
        readers.push(...batch);
      }
      reply({ connected: readers.length });
    } else if ('collect' in req) {
      reply({ latencies: latencies.slice(0, received) });
      received = 0;
    } else {
      for (const s of readers) s.disconnect();
      process.exit(0);
    }
  });
}
