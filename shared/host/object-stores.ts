// Object storage drivers: local disk under DATA_DIR/media (node:fs, atomic renames) and S3-compatible storage through
// the minio client (Node streams and Buffers). Host-specific: Deno runs both through its Node compatibility (the HLS
// suites run under Deno on each). The interface they implement is shared/object-store.ts.
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type * as Minio from 'minio';
import type { ByteRange } from '../media-http.ts';
import { checkKey, type ObjectStore, type S3Settings } from '../object-store.ts';

export class LocalStore implements ObjectStore {
  readonly kind = 'local' as const;
  constructor(private readonly root: string) {}

  private file(key: string) {
    return path.join(this.root, checkKey(key));
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    // write-then-rename so a reader never sees a half-written object
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, file);
  }

  async get(key: string, range?: ByteRange) {
    const file = this.file(key);
    try {
      const st = await stat(file);
      if (!st.isFile()) return null;
      return { body: Readable.toWeb(createReadStream(file, range)) as ReadableStream<Uint8Array>, size: st.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async size(key: string): Promise<number | null> {
    const st = await stat(this.file(key)).catch(() => null);
    return st?.isFile() ? st.size : null;
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  async list(prefix: string): Promise<string[]> {
    const dir = prefix.endsWith('/') ? prefix.slice(0, -1) : path.posix.dirname(prefix);
    const base = dir === '.' || dir === '' ? this.root : this.file(dir);
    let entries: string[];
    try {
      entries = (await readdir(base, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile() && !e.name.endsWith('.tmp'))
        .map((e) => path.relative(this.root, path.join(e.parentPath ?? (e as { path: string }).path, e.name)).split(path.sep).join('/'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return entries.filter((k) => k.startsWith(prefix)).sort();
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.list(prefix);
    await Promise.all(keys.map((k) => this.delete(k)));
    if (prefix.endsWith('/')) await rm(this.file(prefix.slice(0, -1)), { recursive: true, force: true });
    return keys.length;
  }

  async signedUrl(): Promise<string | null> {
    return null;
  }
}

/** A minio client for an origin. Making one does no I/O, so a client for the public origin only signs URLs. */
export function clientFor(Client: typeof Minio.Client, origin: string, s: S3Settings): Minio.Client {
  const url = new URL(origin);
  return new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    useSSL: url.protocol === 'https:',
    accessKey: s.accessKey,
    secretKey: s.secretKey,
    // given, so presigning never asks the (maybe unreachable from here) public origin for the bucket's region
    region: s.region,
    pathStyle: true,
  });
}

/** S3-compatible object storage (MinIO, AWS S3, …) through the minio client; path-style addressing. */
export class S3Store implements ObjectStore {
  readonly kind = 's3' as const;
  private readonly client: Minio.Client;
  private readonly bucket: string;
  /** signs URLs for the origin browsers reach; the SigV4 signature covers the Host, so it cannot be `client` */
  private readonly signer: Minio.Client | undefined;

  private constructor(client: Minio.Client, bucket: string, signer: Minio.Client | undefined) {
    this.client = client;
    this.bucket = bucket;
    this.signer = signer;
  }

  /** Connects and creates the bucket when it does not exist yet (first start against a fresh MinIO). The minio
   * package is loaded only here, so the embedded default (local disk) does not carry it in memory. */
  static async open(s: S3Settings): Promise<S3Store> {
    const { Client } = await import('minio');
    const client = clientFor(Client, s.endpoint, s);
    if (!(await client.bucketExists(s.bucket))) await client.makeBucket(s.bucket);
    const origin = s.publicUrl === undefined ? s.endpoint : s.publicUrl;
    const signer = origin === null ? undefined : origin === s.endpoint ? client : clientFor(Client, origin, s);
    return new S3Store(client, s.bucket, signer);
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.client.putObject(this.bucket, checkKey(key), Buffer.from(body.buffer, body.byteOffset, body.byteLength), body.byteLength, { 'Content-Type': contentType });
  }

  async get(key: string, range?: ByteRange) {
    try {
      const st = await this.client.statObject(this.bucket, checkKey(key));
      const stream = range ? await this.client.getPartialObject(this.bucket, key, range.start, range.end - range.start + 1) : await this.client.getObject(this.bucket, key);
      return { body: Readable.toWeb(stream) as ReadableStream<Uint8Array>, size: st.size };
    } catch (err) {
      if ((err as { code?: string }).code === 'NotFound' || (err as { code?: string }).code === 'NoSuchKey') return null;
      throw err;
    }
  }

  async size(key: string): Promise<number | null> {
    try {
      return (await this.client.statObject(this.bucket, checkKey(key))).size;
    } catch (err) {
      if ((err as { code?: string }).code === 'NotFound' || (err as { code?: string }).code === 'NoSuchKey') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.removeObject(this.bucket, checkKey(key));
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const o of this.client.listObjectsV2(this.bucket, prefix, true)) if (o.name) keys.push(o.name);
    return keys.sort();
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.list(prefix);
    for (let i = 0; i < keys.length; i += 1000) await this.client.removeObjects(this.bucket, keys.slice(i, i + 1000));
    return keys.length;
  }

  async signedUrl(key: string, expirySeconds: number): Promise<string | null> {
    return this.signer ? this.signer.presignedGetObject(this.bucket, checkKey(key), expirySeconds) : null;
  }
}
