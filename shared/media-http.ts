// How HLS files are served over HTTP, by the origin (api/routes/vods.ts) and by an edge in front of it
// (edge/hls-edge.ts) alike: how long each kind may be cached and by whom, byte ranges, and a playlist's segment URIs
// pointed at a public base and carrying a token. Portable (no node: imports): the edge runs on other runtimes.
import { hex } from './encoding.ts';

/** What is served: a segment or poster (never changes), a playlist still growing, an ended one, a live preview frame. */
export type MediaKind = 'segment' | 'live-playlist' | 'vod-playlist' | 'preview';
/** Who the response is for: anyone; the viewer whose session cookie was checked; whoever holds a token valid until
 * `tokenExp` (Unix seconds), which is in the URL. */
export type MediaAudience = 'public' | 'session' | { tokenExp: number };

/**
 * Seconds each kind may be cached.
 * - segment: written once under a name never reused, so a year and `immutable`. (A VoD turned subscriber-only keeps
 *   its already-fetched public segment URLs in CDN caches until they are purged; its playlist stops within an hour.)
 * - live-playlist: the recorder adds a 2 s segment every 2 s and viewers poll at that pace; 1 s lets a CDN answer all
 *   of a broadcast's viewers with one origin request a second while a new segment shows up at most 1 s late.
 * - vod-playlist: an ended VoD's playlist never changes; what does change is whether it may be served publicly
 *   (turned subscriber-only, or deleted). An hour bounds how long a CDN goes on serving it without a purge, and its
 *   ETag makes the revalidation after that a 304.
 * - preview: the recorder refreshes a live channel's preview frame every few seconds.
 */
export const MAX_AGE: Record<MediaKind, number> = { segment: 31_536_000, 'live-playlist': 1, 'vod-playlist': 3600, preview: 10 };

/**
 * Cache-Control (and Vary) for a file. What a session cookie opened is `private`, varying by the cookie: a shared cache
 * would otherwise hand a subscriber's copy to anyone. What a token opened may be kept by a CDN, keyed on the full URL
 * (the token is in it), but no longer than the token lives: a cache that does not check tokens would otherwise go on
 * serving a leaked link after it expired.
 */
export function mediaCacheControl(kind: MediaKind, audience: MediaAudience, nowSeconds: number): Record<string, string> {
  const age = MAX_AGE[kind];
  const immutable = kind === 'segment' ? ', immutable' : '';
  if (audience === 'public') return { 'Cache-Control': `public, max-age=${age}${immutable}` };
  if (audience === 'session') return { 'Cache-Control': `private, max-age=${age}${immutable}`, Vary: 'Cookie' };
  return { 'Cache-Control': `public, max-age=${Math.max(0, Math.min(age, Math.floor(audience.tokenExp - nowSeconds)))}` };
}

/** Inclusive byte positions, as in Content-Range. */
export type ByteRange = { start: number; end: number };

/**
 * The range a `Range` header asks of a `size`-byte file: one range, or 'unsatisfiable' (answer 416), or undefined —
 * no header, another unit, a malformed one or several ranges — then the whole file is served, as RFC 9110 allows.
 */
export function parseRange(header: string | null | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  const m = header && header.length <= 100 ? /^bytes=\s*(\d{0,15})\s*-\s*(\d{0,15})\s*$/.exec(header) : null;
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    // a suffix: the last N bytes
    const n = Number(m[2]);
    return n === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? Infinity : Number(m[2]);
  if (end < start) return undefined;
  return start >= size ? 'unsatisfiable' : { start, end: Math.min(end, size - 1) };
}

/** Headers and status answering `range` of a `size`-byte file (Content-Length included). */
export function rangeResponse(range: ByteRange | undefined, size: number): { status: 200 | 206; headers: Record<string, string> } {
  if (!range) return { status: 200, headers: { 'Accept-Ranges': 'bytes', 'Content-Length': String(size) } };
  return { status: 206, headers: { 'Accept-Ranges': 'bytes', 'Content-Length': String(range.end - range.start + 1), 'Content-Range': `bytes ${range.start}-${range.end}/${size}` } };
}

/**
 * A playlist (media or master) with each URI resolved against `base` (where its files are served from, ending in
 * "/"; '' keeps them relative to the playlist) and carrying `token` as `?token=` (query strings are not inherited by
 * relative URIs, so each needs its own): the URI lines (segments, a master's variants) and the URI="…" attributes of
 * tags (EXT-X-MAP's init segment of fMP4, EXT-X-MEDIA's renditions).
 */
export function rewritePlaylist(text: string, opts: { base?: string; token?: string }): string {
  const rewrite = (uri: string) => `${/^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith('/') ? '' : (opts.base ?? '')}${uri}${opts.token ? `${uri.includes('?') ? '&' : '?'}token=${encodeURIComponent(opts.token)}` : ''}`;
  return text
    .split('\n')
    .map((line) => {
      const uri = line.trim();
      if (!uri) return line;
      if (uri.startsWith('#')) return /^#EXT-X-(MAP|MEDIA|I-FRAME-STREAM-INF):/.test(uri) ? line.replace(/URI="([^"]*)"/, (_m, u: string) => `URI="${rewrite(u)}"`) : line;
      return rewrite(uri);
    })
    .join('\n');
}

/** A strong ETag for bytes (a playlist's revalidation then costs a 304). */
export async function etagOf(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)).slice(0, 16);
  return `"${hex(digest)}"`;
}

/** Whether an If-None-Match header names `etag` (or `*`). */
export const etagMatches = (header: string | null | undefined, etag: string) =>
  !!header && header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*');

/** A playlist with #EXT-X-ENDLIST is a finished VoD's (it no longer changes); without, the recording goes on. */
export const playlistKind = (text: string): MediaKind => (/^#EXT-X-ENDLIST\s*$/m.test(text) ? 'vod-playlist' : 'live-playlist');
