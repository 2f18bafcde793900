// Where uploaded video files are kept while they upload and until they are transcoded: the tus data stores, local disk
// under DATA_DIR/uploads (@tus/file-store) or the S3 bucket (@tus/s3-store, multipart), chosen in one place from
// config. Host-specific: both stores are Node streams and files (Deno runs them through its Node compatibility), and
// the S3 one keeps each part in a temporary file before sending it, so an upload never sits in memory.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { FileStore } from '@tus/file-store';
import type { DataStore } from '@tus/utils';
import type { Config } from '../config.ts';
import { clientFor } from './object-stores.ts';

/** One store of uploaded files and what the API asks of it beyond tus: where FFmpeg reads a file, and removing one. */
export type UploadStore = {
  readonly kind: 'file' | 's3';
  /** the tus data store (creation, offsets, writes, termination, expiry) */
  readonly datastore: DataStore;
  /** What FFmpeg opens to read upload `id`: its path on disk, or a presigned GET URL valid for `expirySeconds`. */
  input(id: string, expirySeconds: number): Promise<string>;
  /** Removes upload `id`'s bytes and its tus metadata, finished or not; nothing there is no error. */
  remove(id: string): Promise<void>;
};

/** The file store under `uploads.dir` on defaults, the S3 bucket when S3_* is configured. */
export async function createUploadStore(config: Config): Promise<UploadStore> {
  const expirationPeriodInMilliseconds = config.uploads.expireMs;
  if (!config.s3) {
    const directory = config.uploads.dir;
    const datastore = new FileStore({ directory, expirationPeriodInMilliseconds });
    const file = (id: string) => path.join(directory, id);
    return {
      kind: 'file',
      datastore,
      input: async (id) => file(id),
      remove: async (id) => {
        await rm(file(id), { force: true });
        await rm(`${file(id)}.json`, { force: true });
      },
    };
  }
  const s3 = config.s3;
  const [{ S3Store }, { Client }] = await Promise.all([import('@tus/s3-store'), import('minio')]);
  // minio signs the URL FFmpeg reads (at the endpoint this process reaches, not the browsers' origin) and removes
  // whatever tus left; the tus store speaks S3 through the AWS SDK
  const client = clientFor(Client, s3.endpoint, s3);
  if (!(await client.bucketExists(s3.bucket))) await client.makeBucket(s3.bucket);
  const datastore = new S3Store({
    // parts of at least the client's chunk, so one PATCH is one part (S3's 5 MiB floor applies)
    partSize: Math.max(5 * 1024 * 1024, config.uploads.chunkBytes),
    expirationPeriodInMilliseconds,
    s3ClientConfig: {
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      // plain signed bodies rather than the SDK's default aws-chunked checksum trailers, which older S3-compatible
      // servers (MinIO releases, s3rver) do not read
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
    },
  });
  return {
    kind: 's3',
    datastore,
    input: (id, expirySeconds) => client.presignedGetObject(s3.bucket, id, expirySeconds),
    remove: async (id) => {
      try {
        await datastore.remove(id); // aborts a multipart upload still open
      } catch {
        // finished (no multipart upload to abort) or already gone: the objects below are what is left
      }
      await client.removeObjects(s3.bucket, [id, `${id}.info`, `${id}.part`]);
    },
  };
}
