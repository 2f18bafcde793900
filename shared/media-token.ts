// Signed media URLs: an HMAC-SHA256 token over a path prefix in the object store (a VoD's directory, so one token
// serves its playlist and every segment), an expiry and the viewer it was issued to. Anything holding the keys can
// check one without the database — the origin and an edge in front of it (edge/hls-edge.ts) alike — so this module
// is portable: Web Crypto, TextEncoder and shared/encoding.ts only (no node: imports, no Buffer, no process), for
// Node, Deno and edge runtimes.
//
// A token is `<kid>.<payload>.<signature>`, base64url. The kid names the key that signed it: the first configured key
// signs, every listed one verifies, so keys rotate by putting a new one first and dropping the old one once the
// longest-lived token it signed has expired.
import { RENDITION_NAMES } from './vod-ladder.ts';
import { base64url, fromBase64 } from './encoding.ts';

/** A signing key as configured: its id (named in each token it signs) and its secret. */
export type MediaKeySpec = { kid: string; secret: string };
/** A key ready to sign and verify with. */
export type MediaKey = { kid: string; hmac: CryptoKey };
/** What a token grants: the files under `prefix` (an object-store key prefix ending in "/"), until `exp` (Unix
 * seconds), to `viewer` (a user id). */
export type MediaGrant = { prefix: string; exp: number; viewer: string };

export type TokenRefusal = 'malformed' | 'unknown-key' | 'bad-signature' | 'expired' | 'other-path';
export type TokenCheck = { ok: true; grant: MediaGrant } | { ok: false; reason: TokenRefusal; message: string };

/** Longest token accepted: a kid, a short JSON payload and a 32-byte MAC fit well within it (checked before decoding). */
export const MAX_TOKEN_LENGTH = 512;
const KID = /^[A-Za-z0-9_-]{1,32}$/;
const MIN_SECRET = 32;

const text = new TextEncoder();

/**
 * The bytes of a base64url string, or null when it is not one — or not the one spelling of its bytes: the last
 * character's unused low bits are ignored by decoders, so without this a signature's last character could be swapped
 * for another and still verify (one token, several URLs).
 */
function fromBase64url(s: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  try {
    const bytes = fromBase64(s);
    return base64url(bytes) === s ? bytes : null;
  } catch {
    return null;
  }
}

/** Parses `kid1:secret1,kid2:secret2` (the MEDIA_SIGNING_KEYS setting); throws an Error saying what is wrong. */
export function parseMediaKeys(setting: string): MediaKeySpec[] {
  const specs = setting
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf(':');
      const kid = entry.slice(0, at);
      const secret = entry.slice(at + 1);
      if (at < 0 || !KID.test(kid)) throw new Error(`"${entry.slice(0, 40)}…" is not kid:secret (kid: 1-32 of A-Z a-z 0-9 _ -)`);
      if (secret.length < MIN_SECRET) throw new Error(`the secret of key "${kid}" must be at least ${MIN_SECRET} characters`);
      return { kid, secret };
    });
  if (!specs.length) throw new Error('name at least one kid:secret');
  if (new Set(specs.map((s) => s.kid)).size !== specs.length) throw new Error('each key needs its own kid');
  return specs;
}

/**
 * The signing key used when none is configured: derived from the session secret by HMAC, so the session secret itself
 * never signs (or is exposed by) a media URL. An edge cannot derive it without that secret: configure keys for one.
 */
export async function deriveMediaKey(authSecret: string): Promise<MediaKeySpec> {
  const key = await crypto.subtle.importKey('raw', text.encode(authSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const derive = async (label: string) => base64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, text.encode(label))));
  // the kid changes with the session secret, so a link signed before the secret changed is told apart from an altered one
  return { kid: `auth-${(await derive('glint media key id v1')).slice(0, 8)}`, secret: await derive('glint media signing key v1') };
}

/** Keys ready for signMediaToken (the first) and verifyMediaToken (all). */
export async function importMediaKeys(specs: MediaKeySpec[]): Promise<MediaKey[]> {
  return Promise.all(
    specs.map(async ({ kid, secret }) => ({ kid, hmac: await crypto.subtle.importKey('raw', text.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']) })),
  );
}

/** A token for `grant`, signed with `key`. */
export async function signMediaToken(grant: MediaGrant, key: MediaKey): Promise<string> {
  const head = `${key.kid}.${base64url(text.encode(JSON.stringify({ p: grant.prefix, e: grant.exp, v: grant.viewer })))}`;
  return `${head}.${base64url(new Uint8Array(await crypto.subtle.sign('HMAC', key.hmac, text.encode(head))))}`;
}

const refuse = (reason: TokenRefusal, message: string): TokenCheck => ({ ok: false, reason, message });

/**
 * Whether `token` grants the object at `objectKey` (e.g. vod/<id>/seg-00001.ts, vod/<id>/720p/init.mp4) at
 * `nowSeconds`. Only a file under the token's prefix, directly or in a rendition's folder of it (shared/vod-ladder.ts), is
 * granted (no deeper path, no `..`), so a token for one VoD opens no other.
 */
export async function verifyMediaToken(token: string, objectKey: string, keys: readonly MediaKey[], nowSeconds: number): Promise<TokenCheck> {
  const parts = token.length <= MAX_TOKEN_LENGTH ? token.split('.') : [];
  if (parts.length !== 3) return refuse('malformed', 'This media link’s token is malformed.');
  const [kid, payload, signature] = parts as [string, string, string];
  const key = keys.find((k) => k.kid === kid);
  if (!key) return refuse('unknown-key', 'This media link was signed with a key that is no longer in use; reload the page for a new link.');
  const mac = fromBase64url(signature);
  if (!mac || !(await crypto.subtle.verify('HMAC', key.hmac, mac, text.encode(`${kid}.${payload}`)))) {
    return refuse('bad-signature', 'This media link’s signature does not match: it was altered.');
  }
  let grant: MediaGrant;
  try {
    const g = JSON.parse(new TextDecoder().decode(fromBase64url(payload) ?? new Uint8Array()));
    if (typeof g?.p !== 'string' || !g.p.endsWith('/') || typeof g.e !== 'number' || typeof g.v !== 'string') throw new Error('shape');
    grant = { prefix: g.p, exp: g.e, viewer: g.v };
  } catch {
    return refuse('malformed', 'This media link’s token is malformed.');
  }
  if (nowSeconds >= grant.exp) return refuse('expired', `This media link expired at ${new Date(grant.exp * 1000).toISOString()}; reload the page for a new one.`);
  const rest = objectKey.startsWith(grant.prefix) ? objectKey.slice(grant.prefix.length) : '';
  const [folder, file] = rest.includes('/') ? [rest.slice(0, rest.indexOf('/')), rest.slice(rest.indexOf('/') + 1)] : ['', rest];
  if ((folder && !(RENDITION_NAMES as readonly string[]).includes(folder)) || !/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(file)) return refuse('other-path', 'This media link’s token is for another recording.');
  return { ok: true, grant };
}
