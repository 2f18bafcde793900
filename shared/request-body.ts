// Request bodies read into memory with a bound counted while reading, for the SFU's WHIP/WHEP routes (sfu/http.ts)
// and the API's proxy in front of them (api/sfu-proxy.ts, which keeps an offer to send it to another node when the
// first is unreachable); and the discarding of a refused body, for those and the API's body limit (api/app.ts).
// Portable: web streams only.
import { tooLarge } from './errors.ts';

/** The largest SDP offer (or answer) taken: a browser's is a few KB, simulcast with every codec well under this. */
export const MAX_SDP_BYTES = 64 * 1024;
/** A refused body is read on (and thrown away) up to this much, so a client still sending sees the 413, not a reset. */
const DRAIN_BYTES = 1024 * 1024;

/**
 * Reads and discards up to `cap` more bytes of a refused body, then stops reading it: a client still sending receives
 * the 413 instead of a reset connection.
 */
export async function discardBody(reader: ReadableStreamDefaultReader<Uint8Array>, cap = DRAIN_BYTES): Promise<void> {
  let seen = 0;
  try {
    while (seen <= cap) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // the client went away
  }
}

/**
 * A request body of at most `max` bytes, counted while it is read: a larger Content-Length is refused before
 * reading, a chunked body as soon as it passes `max` (413, naming `what`).
 */
export async function readBounded(req: Request, max: number, what: string): Promise<Uint8Array> {
  const reader = req.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const refuse = async () => {
    await discardBody(reader);
    return tooLarge(`${what} may be at most ${max} bytes.`);
  };
  if (Number(req.headers.get('content-length') ?? 0) > max) throw await refuse();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) throw await refuse();
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return body;
}

/** readBounded as UTF-8 text. */
export const readBoundedText = async (req: Request, max: number, what: string) => new TextDecoder().decode(await readBounded(req, max, what));
