// The object storage interface the portable code uses; its drivers (local disk, S3 through the minio client) are in
// shared/host/object-stores.ts, and shared/storage.ts picks one from config.
import type { ByteRange } from './media-http.ts';

export interface ObjectStore {
  readonly kind: 'local' | 's3';
  /** Writes the whole object at once: readers see the old object or the new one, never part of it. */
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** A web stream of the object (of `range` of it, positions inclusive and within the object), or null when it does
   * not exist. `size` is the whole object's. */
  get(key: string, range?: ByteRange): Promise<{ body: ReadableStream<Uint8Array>; size: number } | null>;
  /** The object's size in bytes, or null when it does not exist (no body is read). */
  size(key: string): Promise<number | null>;
  delete(key: string): Promise<void>;
  /** Keys under a prefix ("a/b/" lists a/b/…), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Deletes every object under a prefix; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** A time-limited URL a browser can fetch the object from directly (S3 with a public origin), or null (Glint serves it). */
  signedUrl(key: string, expirySeconds: number): Promise<string | null>;
}

/** Keys are slash-separated paths of safe characters; anything else is a programming error, not user input. */
export function checkKey(key: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._\-/]*$/.test(key) || key.split('/').some((p) => p === '..' || p === '')) {
    throw new Error(`invalid object key: ${key}`);
  }
  return key;
}

export type S3Settings = {
  endpoint: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** the origin browsers reach the bucket at (what signed URLs name); omitted → the endpoint; null → no signed URLs */
  publicUrl?: string | null;
};
