// An edge in front of Glint's /hls: a `fetch(request)` handler for a CDN's compute (Deno Deploy, a Worker, any
// runtime with Web fetch and Web Crypto) that checks signed media URLs itself, with the same keys as Glint
// (MEDIA_SIGNING_KEYS) and no database, and so serves subscriber-only media without asking the origin who may see it.
//   - A request without a token goes to the origin, which knows what is public (and refuses the rest).
//   - A request with a valid token goes to the object store's URL when one is given (the origin is not involved at
//     all; the edge points a playlist's segment URIs at itself with the token), else to the origin with the token.
//   - An invalid token (expired, altered, for another recording, an unlisted key) is refused here: 403 problem+json.
// Portable like the modules it uses: no node: imports, no Buffer, no process.
//
//   const edge = createHlsEdge({ keys: await importMediaKeys(parseMediaKeys(KEYS)), mount: '/hls/',
//     origin: 'https://glint.example.com/hls/', store: 'https://media-internal.example.com/glint-media/' });
//   Deno.serve(edge.fetch);   // or, in a Worker: export default edge;
import { AppError, forbidden, notFound, problemForStatus, problemHeaders, type Problem } from '../shared/errors.ts';
import { CONTENT_TYPES } from '../shared/media.ts';
import { mediaCacheControl, playlistKind, rewritePlaylist } from '../shared/media-http.ts';
import { verifyMediaToken, type MediaKey } from '../shared/media-token.ts';

export type EdgeOptions = {
  /** the keys tokens are checked with: Glint's MEDIA_SIGNING_KEYS */
  keys: readonly MediaKey[];
  /** the path this edge serves under, ending in "/": what follows it is the object key (vod/<id>/seg-00000.ts) */
  mount: string;
  /** Glint's /hls base, ending in "/", e.g. https://glint.example.com/hls/ */
  origin: string;
  /** the object store's base for the bucket, ending in "/" (path style: https://s3.example.com/glint-media/),
   * readable by the edge; unset → tokened requests go to the origin too */
  store?: string;
  /** Unix seconds (tests turn the clock) */
  now?: () => number;
};

/** Headers a client may send that matter to what the upstream answers (never cookies: tokens, not sessions, here). */
const FORWARDED = ['range', 'if-none-match', 'if-modified-since'];
/** Headers of the upstream's answer passed on (not its hop-by-hop or transfer headers). */
const PASSED = ['content-type', 'content-length', 'content-range', 'accept-ranges', 'etag', 'last-modified', 'cache-control', 'vary', 'location'];
const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/** The object store refused: a missing object is a 404, anything else the edge's upstream failing (502). */
class UpstreamError extends Error {
  constructor(readonly status: number) {
    super(`The object store answered ${status}.`);
  }
}
const storeError = (status: number) => (status === 404 ? notFound('That file') : new UpstreamError(status));

function problem(p: Problem): Response {
  return new Response(JSON.stringify(p), { status: p.status, headers: { ...problemHeaders(), 'Access-Control-Allow-Origin': '*' } });
}

/** The edge's request handler. */
export function createHlsEdge(opts: EdgeOptions): { fetch(request: Request): Promise<Response> } {
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));

  async function upstream(url: string, request: Request, headers: Record<string, string> = {}): Promise<Response> {
    const forwarded = new Headers();
    for (const name of FORWARDED) {
      const value = request.headers.get(name);
      if (value !== null) forwarded.set(name, value);
    }
    const res = await fetch(url, { method: request.method, headers: forwarded, redirect: 'manual' });
    // the bucket's own refusals (XML, its wording) become ours; the origin's are already problem+json
    if (url.startsWith(opts.store ?? '\0') && res.status >= 400 && res.status !== 416) throw storeError(res.status);
    const out = new Headers({ 'Access-Control-Allow-Origin': '*' });
    for (const name of PASSED) {
      const value = res.headers.get(name);
      if (value !== null) out.set(name, value);
    }
    // Glint's rules describe the file, so they go on the file (or its 304), not on a refusal
    if (res.status < 300 || res.status === 304) for (const [name, value] of Object.entries(headers)) out.set(name, value);
    return new Response(request.method === 'HEAD' ? null : res.body, { status: res.status, headers: out });
  }

  async function handle(request: Request): Promise<Response> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return problem(problemForStatus(405, 'Media is read with GET or HEAD.'));
    const url = new URL(request.url);
    const key = url.pathname.startsWith(opts.mount) ? url.pathname.slice(opts.mount.length) : '';
    if (!KEY.test(key)) throw notFound('That file');
    const token = url.searchParams.get('token');
    if (token === null) return upstream(opts.origin + key, request);
    const check = await verifyMediaToken(token, key, opts.keys, now());
    if (!check.ok) throw forbidden(check.message);
    if (!opts.store) return upstream(`${opts.origin}${key}?token=${encodeURIComponent(token)}`, request);

    // straight from the bucket: Glint's cache rules by kind, lasting no longer than the token
    const ext = key.split('.').pop()!;
    const type = CONTENT_TYPES[ext] ?? 'application/octet-stream';
    if (ext !== 'm3u8') return upstream(opts.store + key, request, { 'Content-Type': type, ...mediaCacheControl('segment', { tokenExp: check.grant.exp }, now()) });
    // a playlist: its segments need the token too (a relative URI does not inherit the query). Read whole and served
    // whole (a Range on it is ignored, as RFC 9110 allows); kept as long as Glint keeps a live or an ended one.
    const res = await fetch(opts.store + key);
    if (!res.ok) throw storeError(res.status);
    const text = await res.text();
    const body = new TextEncoder().encode(rewritePlaylist(text, { token }));
    const headers = { 'Content-Type': type, 'Content-Length': String(body.length), 'Access-Control-Allow-Origin': '*', ...mediaCacheControl(playlistKind(text), { tokenExp: check.grant.exp }, now()) };
    return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers });
  }

  return {
    fetch: (request) =>
      handle(request).catch((err) => {
        if (err instanceof AppError) return problem(err.toProblem(new URL(request.url).pathname));
        // the upstream unreachable or failing: a gateway's error, not a crash
        const detail = err instanceof UpstreamError ? err.message : 'The media upstream could not be reached.';
        return problem(problemForStatus(502, detail, new URL(request.url).pathname));
      }),
  };
}
