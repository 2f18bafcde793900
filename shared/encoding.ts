// Bytes as text (base64, base64url, hex) with the web platform's own pieces (btoa, atob), so the code that signs,
// hashes and makes secrets runs unchanged wherever fetch and crypto.subtle do (Node's Buffer is not needed).

/** Standard base64, padded. */
export function base64(bytes: Uint8Array): string {
  let binary = '';
  // in slices: String.fromCharCode takes its arguments on the stack
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** URL-safe base64 without padding (RFC 4648 §5): what goes in a URL, a cookie or a key someone pastes. */
export const base64url = (bytes: Uint8Array): string => base64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** The bytes of standard or URL-safe base64, padded or not. Throws on anything else. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** `n` random bytes from the platform's CSPRNG. */
export const randomBytes = (n: number): Uint8Array<ArrayBuffer> => crypto.getRandomValues(new Uint8Array(n));
