// AMF0 (commands and metadata) checked before node-media-server decodes it. Its decoder trusts every type byte and
// length it reads: an unknown type is a TypeError, a length past the end a RangeError, nesting is unbounded
// recursion, and a `__proto__` key replaces a decoded object's prototype. This walk accepts only what it decodes
// faithfully, within a nesting depth, and allocates nothing.

/** AMF0 the RTMP ingest does not accept (malformed, unsupported type, too deep). */
export class AmfError extends Error {
  override name = 'AmfError';
}

/** Objects in objects: connect's command object and onMetaData's array are one level; encoders send no more than two. */
export const MAX_AMF_DEPTH = 8;
/** Property names longer than this are not metadata (and node-media-server mistakes a name of 0x0900+ bytes for an object's end). */
const MAX_KEY_BYTES = 255;
const PROTO = Buffer.from('__proto__');

/** Throws an AmfError unless `buf` is a sequence of complete AMF0 values that node-media-server decodes as written. */
export function checkAmf0(buf: Buffer): void {
  if (!buf.length) throw new AmfError('an empty AMF0 message'); // a command or data message starts with its name
  for (let at = 0; at < buf.length; ) at = value(buf, at, 0);
}

function need(buf: Buffer, at: number, n: number): void {
  if (n > buf.length - at) throw new AmfError(`an AMF0 value runs past the end of its message (byte ${at})`);
}

function value(buf: Buffer, start: number, depth: number): number {
  need(buf, start, 1);
  const type = buf[start]!;
  const at = start + 1;
  switch (type) {
    case 0x00: // number
      need(buf, at, 8);
      return at + 8;
    case 0x01: // boolean
      need(buf, at, 1);
      return at + 1;
    case 0x02: {
      // string
      need(buf, at, 2);
      const n = buf.readUInt16BE(at);
      need(buf, at + 2, n);
      return at + 2 + n;
    }
    case 0x05: // null
    case 0x06: // undefined
      return at;
    case 0x07: // reference
      need(buf, at, 2);
      return at + 2;
    case 0x0b: // date: a double and a time zone
      need(buf, at, 10);
      return at + 10;
    case 0x0c: {
      // long string
      need(buf, at, 4);
      const n = buf.readUInt32BE(at);
      need(buf, at + 4, n);
      return at + 4 + n;
    }
    case 0x03: // object
      return properties(buf, at, depth + 1);
    case 0x08: // ECMA array: a count (which nothing trusts), then properties like an object's
      need(buf, at, 4);
      return properties(buf, at + 4, depth + 1);
    case 0x10: {
      // typed object: a class name, then properties
      need(buf, at, 2);
      const n = buf.readUInt16BE(at);
      need(buf, at + 2, n);
      return properties(buf, at + 2 + n, depth + 1);
    }
    case 0x0a: {
      // strict array
      if (depth + 1 > MAX_AMF_DEPTH) throw new AmfError(`AMF0 nested deeper than ${MAX_AMF_DEPTH} levels`);
      need(buf, at, 4);
      const count = buf.readUInt32BE(at);
      // every element takes at least one byte: a count beyond what is left is a lie, not a reason to loop
      if (count > buf.length - at - 4) throw new AmfError(`an AMF0 strict array of ${count} elements in ${buf.length - at - 4} bytes`);
      let p = at + 4;
      for (let i = 0; i < count; i++) p = value(buf, p, depth + 1);
      return p;
    }
    default: // movie clip, object end out of place, unsupported, record set, XML (node-media-server reads its length wrong), AMF3
      throw new AmfError(`AMF0 type 0x${type.toString(16).padStart(2, '0')} is not accepted`);
  }
}

function properties(buf: Buffer, start: number, depth: number): number {
  if (depth > MAX_AMF_DEPTH) throw new AmfError(`AMF0 nested deeper than ${MAX_AMF_DEPTH} levels`);
  for (let at = start; ; ) {
    need(buf, at, 2);
    const n = buf.readUInt16BE(at);
    at += 2;
    if (n === 0) {
      // the end marker is an empty name and 0x09; an empty name before anything else would end the decode early
      need(buf, at, 1);
      if (buf[at] !== 0x09) throw new AmfError('an AMF0 property with an empty name');
      return at + 1;
    }
    if (n > MAX_KEY_BYTES) throw new AmfError(`an AMF0 property name of ${n} bytes (at most ${MAX_KEY_BYTES})`);
    need(buf, at, n);
    if (n === PROTO.length && buf.subarray(at, at + n).equals(PROTO)) throw new AmfError('an AMF0 property named __proto__');
    at = value(buf, at + n, depth);
  }
}
