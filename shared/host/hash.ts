// Synchronous hashes, for the two callers that cannot wait: a channel's avatar version is computed per row in the
// synchronous serializer every channel list goes through, and a stream key's hash is compared in the SFU's synchronous
// checks (sfu/http.ts). crypto.subtle.digest is asynchronous only, so these are node:crypto's; Deno 2 implements
// createHash in its Node compatibility. Everything that can wait uses crypto.subtle.
import { createHash } from 'node:crypto';

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');
export const sha1Hex = (text: string): string => createHash('sha1').update(text).digest('hex');
