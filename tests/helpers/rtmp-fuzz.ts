// Fuzzing RTMP ingest with mutated real sessions: FFmpeg publishes to a capturing server (node-media-server's own
// state machine answering, so FFmpeg goes all the way to media), the bytes it sent are parsed into messages, and each
// case replays a mutation of them against Glint's RtmpServer: bit flips, insertions and deletions, truncation at every
// phase, chunk sizes and message lengths set to extremes, two sessions spliced, AMF type markers swapped, messages
// retyped, repeated, dropped and moved to odd chunk streams, stream keys valid and not. Used by
// tests/security/rtmp-fuzz.test.ts (a few seconds) and bench/fuzz-rtmp.ts (as long as asked).
import net from 'node:net';
import Rtmp from 'node-media-server/src/protocol/rtmp.js';
import { startProcess } from './process.ts';

export type Message = { cid: number; type: number; streamId: number; timestamp: number; payload: Buffer };
/** What a client sent: C0+C1, C2, then its chunk stream parsed into messages (and the raw bytes, for byte mutations). */
export type Session = { name: string; raw: Buffer; c0c1: Buffer; c2: Buffer; messages: Message[] };

/** The stream name the captured sessions publish to, replaced by each case's key (a real key has this length). */
export const PLACEHOLDER_KEY = 'glint_' + 'x'.repeat(43);

/** Runs FFmpeg against a capturing RTMP server and returns every byte it sent. */
export async function captureFfmpeg(name: string, x264: string[], seconds = 2): Promise<Session> {
  const received: Buffer[] = [];
  const server = net.createServer((socket) => {
    const rtmp = new Rtmp();
    rtmp.onOutputCallback = (b) => void (socket.destroyed || socket.write(b));
    socket.on('data', (d) => {
      received.push(d);
      try {
        rtmp.parserData(d);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  const ffmpeg = startProcess('ffmpeg', [
    '-hide_banner', '-loglevel', 'error',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', String(seconds), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', ...x264, '-c:a', 'aac', '-b:a', '64k',
    '-f', 'flv', `rtmp://127.0.0.1:${port}/live/${PLACEHOLDER_KEY}`,
  ]);
  const code = await new Promise<number | null>((r) => ffmpeg.proc.once('exit', (c) => r(c)));
  server.close();
  if (code !== 0) throw new Error(`capturing FFmpeg exited ${code}: ${ffmpeg.output()}`);
  return parseSession(name, Buffer.concat(received));
}

/** Parses a client's side of an RTMP connection (trusted input: FFmpeg's). */
export function parseSession(name: string, raw: Buffer): Session {
  const c0c1 = raw.subarray(0, 1537);
  const c2 = raw.subarray(1537, 3073);
  const messages: Message[] = [];
  type Head = { timestamp: number; delta: number; length: number; type: number; streamId: number; extended: boolean };
  const last = new Map<number, Head>();
  const partial = new Map<number, { head: Head; parts: Buffer[]; got: number }>();
  let chunkSize = 128;
  let p = 3073;
  try {
    while (p < raw.length) {
      const b0 = raw[p++]!;
      const fmt = b0 >> 6;
      let cid = b0 & 0x3f;
      if (cid === 0) cid = 64 + raw[p++]!;
      else if (cid === 1) {
        cid = 64 + raw[p]! + raw[p + 1]! * 256;
        p += 2;
      }
      const h: Head = { ...(last.get(cid) ?? { timestamp: 0, delta: 0, length: 0, type: 0, streamId: 0, extended: false }) };
      if (fmt <= 2) {
        let ts = raw.readUIntBE(p, 3);
        p += 3;
        if (fmt <= 1) {
          h.length = raw.readUIntBE(p, 3);
          h.type = raw[p + 3]!;
          p += 4;
        }
        if (fmt === 0) {
          h.streamId = raw.readUInt32LE(p);
          p += 4;
        }
        h.extended = ts === 0xffffff;
        if (h.extended) {
          ts = raw.readUInt32BE(p);
          p += 4;
        }
        if (fmt === 0) h.timestamp = ts;
        else h.delta = ts;
      } else if (h.extended) p += 4;
      let part = partial.get(cid);
      if (!part) {
        if (fmt !== 0) h.timestamp += h.delta;
        part = { head: h, parts: [], got: 0 };
        partial.set(cid, part);
      }
      last.set(cid, h);
      const take = Math.min(chunkSize, part.head.length - part.got, raw.length - p);
      part.parts.push(raw.subarray(p, p + take));
      part.got += take;
      p += take;
      if (part.got >= part.head.length) {
        partial.delete(cid);
        const payload = Buffer.concat(part.parts);
        messages.push({ cid, type: part.head.type, streamId: part.head.streamId, timestamp: part.head.timestamp, payload });
        if (part.head.type === 1 && payload.length >= 4) chunkSize = payload.readUInt32BE(0) & 0x7fffffff;
      }
    }
  } catch {
    // a capture cut mid-chunk: the messages complete so far
  }
  return { name, raw, c0c1, c2, messages };
}

function basicHeader(fmt: number, cid: number): Buffer {
  if (cid < 64) return Buffer.from([(fmt << 6) | cid]);
  if (cid < 320) return Buffer.from([fmt << 6, cid - 64]);
  return Buffer.from([(fmt << 6) | 1, (cid - 64) & 0xff, ((cid - 64) >> 8) & 0xff]);
}

/** Writes messages as chunks: a type 0 header each (its length overridable, to lie), type 3 continuations. */
export function serialize(
  s: Pick<Session, 'c0c1' | 'c2'>,
  messages: Message[],
  opts: { lengths?: Map<number, number>; followChunkSize?: boolean; handshake?: boolean; chunkSize?: number } = {},
): Buffer {
  const out: Buffer[] = opts.handshake === false ? [] : [s.c0c1, s.c2];
  let chunkSize = opts.chunkSize ?? 128;
  messages.forEach((m, i) => {
    const h = Buffer.alloc(11);
    const extended = m.timestamp >= 0xffffff;
    h.writeUIntBE(extended ? 0xffffff : m.timestamp, 0, 3);
    h.writeUIntBE((opts.lengths?.get(i) ?? m.payload.length) & 0xffffff, 3, 3);
    h[6] = m.type & 0xff;
    h.writeUInt32LE(m.streamId >>> 0, 7);
    const ext = Buffer.alloc(4);
    ext.writeUInt32BE(m.timestamp >>> 0);
    out.push(basicHeader(0, m.cid), h);
    if (extended) out.push(ext);
    for (let at = 0; at < m.payload.length; at += chunkSize) {
      if (at) {
        out.push(basicHeader(3, m.cid));
        if (extended) out.push(ext);
      }
      out.push(m.payload.subarray(at, at + chunkSize));
    }
    if (m.type === 1 && m.payload.length >= 4 && opts.followChunkSize !== false) {
      const size = m.payload.readUInt32BE(0) & 0x7fffffff;
      if (size >= 1) chunkSize = Math.min(size, 1 << 24);
    }
  });
  return Buffer.concat(out);
}

/** The session without its goodbye (FCUnpublish, deleteStream): replayed at once, it would end as soon as it went live. */
export const withoutGoodbye = (messages: Message[]) =>
  messages.filter((m) => m.type !== 20 || !/FCUnpublish|deleteStream/.test(m.payload.toString('latin1', 0, 20)));

/** An AMF0 string `from` inside a payload replaced by `to` (its length prefix rewritten). */
export function replaceAmfString(payload: Buffer, from: string, to: string): Buffer {
  const needle = Buffer.concat([Buffer.from([0x02, from.length >> 8, from.length & 0xff]), Buffer.from(from)]);
  const at = payload.indexOf(needle);
  if (at < 0) return payload;
  const str = Buffer.from(to);
  const replacement = Buffer.concat([Buffer.from([0x02, (str.length >> 8) & 0xff, str.length & 0xff]), str.subarray(0, 0xffff)]);
  return Buffer.concat([payload.subarray(0, at), replacement, payload.subarray(at + needle.length)]);
}

/** Offsets of the AMF0 type markers in a payload (as far as it is well formed). */
export function amfMarkers(buf: Buffer): number[] {
  const out: number[] = [];
  const value = (at: number, depth: number): number => {
    if (at >= buf.length || depth > 16) throw new Error('end');
    out.push(at);
    const t = buf[at]!;
    const p = at + 1;
    switch (t) {
      case 0x00: return p + 8;
      case 0x01: return p + 1;
      case 0x02: return p + 2 + buf.readUInt16BE(p);
      case 0x0c: return p + 4 + buf.readUInt32BE(p);
      case 0x05: case 0x06: return p;
      case 0x0b: return p + 10;
      case 0x03: return props(p, depth);
      case 0x08: return props(p + 4, depth);
      case 0x0a: {
        let q = p + 4;
        for (let n = buf.readUInt32BE(p); n > 0; n--) q = value(q, depth + 1);
        return q;
      }
      default: throw new Error('unknown');
    }
  };
  const props = (start: number, depth: number): number => {
    for (let at = start; ; ) {
      const n = buf.readUInt16BE(at);
      at += 2 + n;
      if (n === 0) return at + 1;
      at = value(at, depth + 1);
    }
  };
  try {
    for (let at = 0; at < buf.length; ) at = value(at, 0);
  } catch {
    // as far as it goes
  }
  return out;
}

/** mulberry32: a small seeded generator, so that a failing run can be replayed with GLINT_FUZZ_SEED. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!, bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => int(256))) };
}
export type Rng = ReturnType<typeof rng>;

const EXTREMES = [0, 1, 2, 3, 4, 127, 128, 129, 4095, 4096, 65535, 65536, 0xfffffe, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000, 0xffffffff];
const TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 19, 20, 22, 0x7f, 0xff];
const AMF_TYPES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0xff];
const isAmf = (m: Message) => m.type === 20 || m.type === 18 || m.type === 17 || m.type === 15;

export type Case = { name: string; bytes: Buffer; live: boolean };

/**
 * One fuzz case from the captured sessions: `key` is a valid stream key (used by a share of the cases, which may go
 * live), the rest publish with wrong or malformed keys.
 */
export function makeCase(r: Rng, sessions: Session[], key: string): Case {
  const base = r.pick(sessions);
  const live = r.next() < 0.15;
  const streamKey = live ? key : r.pick(['glint_wrong' + 'y'.repeat(38), '', 'glint_', 'x'.repeat(60_000), `${key}?a=b`, 'glint_\u00e9\u{1f600}', key.slice(0, -1)]);
  const withKey = (ms: Message[]) => ms.map((m) => (isAmf(m) ? { ...m, payload: replaceAmfString(m.payload, PLACEHOLDER_KEY, streamKey) } : m));
  let messages = withKey(r.next() < 0.5 ? withoutGoodbye(base.messages) : base.messages);
  const names: string[] = [live ? 'valid-key' : 'wrong-key'];
  const lengths = new Map<number, number>();
  let followChunkSize = true;
  let raw: Buffer | undefined;

  const mutators: Record<string, () => void> = {
    none: () => undefined,
    'bit-flips': () => {
      raw ??= serialize(base, messages, { lengths });
      raw = Buffer.from(raw);
      for (let n = 1 + r.int(16); n > 0; n--) {
        const at = r.next() < 0.8 ? 3073 + r.int(Math.max(1, raw.length - 3073)) : r.int(raw.length);
        raw[at]! ^= 1 << r.int(8);
      }
    },
    'insert-delete': () => {
      raw ??= serialize(base, messages, { lengths });
      for (let n = 1 + r.int(4); n > 0; n--) {
        const at = r.int(raw.length);
        raw = r.next() < 0.5 ? Buffer.concat([raw.subarray(0, at), r.bytes(1 + r.int(64)), raw.subarray(at)]) : Buffer.concat([raw.subarray(0, at), raw.subarray(Math.min(raw.length, at + 1 + r.int(256)))]);
      }
    },
    truncate: () => {
      // at a phase boundary or anywhere: in the handshake, after it, after each command, in the media
      const cut = r.int(Math.min(messages.length + 1, 12));
      if (r.next() < 0.5) messages = messages.slice(0, cut);
      else {
        raw ??= serialize(base, messages, { lengths });
        raw = raw.subarray(0, r.int(raw.length));
      }
    },
    'chunk-size': () => {
      const i = messages.findIndex((m) => m.type === 1);
      const size = Buffer.alloc(4);
      size.writeUInt32BE(r.pick(EXTREMES) >>> 0);
      if (i >= 0) messages[i] = { ...messages[i]!, payload: size };
      else messages.splice(r.int(Math.min(messages.length, 4)), 0, { cid: 2, type: 1, streamId: 0, timestamp: 0, payload: size });
      followChunkSize = r.next() < 0.5;
    },
    'message-length': () => {
      for (let n = 1 + r.int(3); n > 0; n--) lengths.set(r.int(messages.length), r.pick(EXTREMES) & 0xffffff);
    },
    splice: () => {
      const other = r.pick(sessions);
      const a = r.int(messages.length);
      const b = r.int(other.messages.length);
      messages = [...messages.slice(0, a), ...withKey(other.messages.slice(b))];
    },
    'amf-type': () => {
      const amf = messages.map((m, i) => [m, i] as const).filter(([m]) => isAmf(m));
      if (!amf.length) return;
      const [m, i] = r.pick(amf);
      const payload = Buffer.from(m.payload);
      const markers = amfMarkers(payload);
      for (let n = 1 + r.int(3); n > 0 && markers.length; n--) {
        const at = r.pick(markers);
        if (r.next() < 0.7) payload[at] = r.pick(AMF_TYPES);
        else if (at + 5 <= payload.length) payload.writeUInt32BE(r.pick(EXTREMES) >>> 0, at + 1); // a length or count after the marker
      }
      messages[i] = { ...m, payload };
    },
    'message-type': () => {
      const i = r.int(messages.length);
      if (messages[i]) messages[i] = { ...messages[i]!, type: r.pick(TYPES) };
    },
    'repeat-drop-reorder': () => {
      const i = r.int(Math.min(messages.length, 8));
      const m = messages[i];
      if (!m) return;
      const op = r.int(3);
      if (op === 0) messages.splice(i, 0, ...Array.from({ length: 1 + r.int(50) }, () => m));
      else if (op === 1) messages.splice(i, 1);
      else messages.splice(r.int(messages.length), 0, ...messages.splice(i, 1));
    },
    'header-fields': () => {
      for (let n = 1 + r.int(4); n > 0; n--) {
        const i = r.int(messages.length);
        const m = messages[i];
        if (!m) continue;
        const field = r.int(3);
        messages[i] = field === 0 ? { ...m, timestamp: r.pick(EXTREMES) } : field === 1 ? { ...m, streamId: r.pick(EXTREMES) } : { ...m, cid: r.pick([2, 3, 63, 64, 65, 319, 320, 321, 65599, 2 + r.int(70000)]) };
      }
    },
    noise: () => {
      raw = r.next() < 0.5 ? r.bytes(1 + r.int(8192)) : Buffer.concat([base.c0c1, base.c2, r.bytes(1 + r.int(8192))]);
    },
  };
  const kinds = Object.keys(mutators).filter((k) => k !== 'none');
  const picks = r.next() < 0.1 ? ['none'] : Array.from({ length: 1 + r.int(3) }, () => r.pick(kinds));
  for (const k of picks) {
    // byte-level mutations work on the serialized stream; message-level ones must come before it exists
    if (raw && !['bit-flips', 'insert-delete', 'truncate', 'noise'].includes(k)) continue;
    mutators[k]!();
    names.push(k);
  }
  const bytes = raw ?? serialize(base, messages, { lengths, followChunkSize });
  return { name: `${base.name}: ${names.join(' + ')}`, bytes, live };
}

/** Sends a case in random slices and waits until the server closes, or `holdMs` after the last byte (then hangs up). */
export async function replay(port: number, from: string, c: Case, r: Rng, holdMs: number): Promise<'closed-by-server' | 'hung-up'> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
  socket.on('error', () => undefined);
  socket.on('data', () => undefined); // read what the server says, so it is never left unread
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const opened = await Promise.race([new Promise<boolean>((resolve) => socket.once('connect', () => resolve(true))), closed.then(() => false)]);
  if (!opened) return 'closed-by-server';
  const slices = r.next() < 0.3 ? 1 : 2 + r.int(20);
  for (let i = 0, at = 0; i < slices && at < c.bytes.length && !socket.destroyed; i++) {
    const end = i === slices - 1 ? c.bytes.length : Math.min(c.bytes.length, at + 1 + r.int(Math.ceil((2 * c.bytes.length) / slices)));
    socket.write(c.bytes.subarray(at, end));
    at = end;
    if (r.next() < 0.3) await new Promise((res) => setTimeout(res, r.int(5)));
  }
  const outcome = await Promise.race([closed.then(() => 'closed-by-server' as const), new Promise<'hung-up'>((res) => setTimeout(() => res('hung-up'), holdMs))]);
  socket.destroy();
  await closed;
  return outcome;
}

export type FuzzStats = { cases: number; seconds: number; perSecond: number; closedByServer: number; hungUp: number; live: number; byMutator: Record<string, number> };

/** Runs cases from `workers` concurrent clients for `seconds`; `onCase` sees each before it is sent (to name it on failure). */
export async function fuzz(opts: { port: number; sessions: Session[]; key: string; seconds: number; seed: number; workers?: number; onCase?: (c: Case) => void }): Promise<FuzzStats> {
  const r = rng(opts.seed);
  const stats: FuzzStats = { cases: 0, seconds: 0, perSecond: 0, closedByServer: 0, hungUp: 0, live: 0, byMutator: {} };
  const started = Date.now();
  const until = started + opts.seconds * 1000;
  const worker = async (w: number) => {
    while (Date.now() < until) {
      const c = makeCase(r, opts.sessions, opts.key);
      opts.onCase?.(c);
      for (const k of c.name.split(': ')[1]!.split(' + ')) stats.byMutator[k] = (stats.byMutator[k] ?? 0) + 1;
      // valid sessions are held a while so that some reach the probe and the bridge before the client vanishes
      const hold = c.live ? r.int(1500) : 50 + r.int(250);
      const outcome = await replay(opts.port, `127.0.${1 + (w % 250)}.${1 + r.int(250)}`, c, r, hold);
      stats.cases++;
      if (c.live) stats.live++;
      if (outcome === 'closed-by-server') stats.closedByServer++;
      else stats.hungUp++;
    }
  };
  await Promise.all(Array.from({ length: opts.workers ?? 6 }, (_, w) => worker(w)));
  stats.seconds = (Date.now() - started) / 1000;
  stats.perSecond = stats.cases / stats.seconds;
  return stats;
}
