// TODO-merge: a stand-in for the uploads helper's `uploadInput(deps, uploadId)` (api/uploads.ts): the finished upload's
// file under DATA_DIR/uploads/<uploadId> (the tus file store). At merge, import theirs instead (it also answers a
// presigned GET on the S3 store) and delete this file.
import path from 'node:path';
import type { Config } from '../shared/config.ts';

/** Where FFmpeg reads an upload from. */
export async function uploadInput(deps: { config: Config }, uploadId: string): Promise<{ input: string }> {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(uploadId)) throw new Error(`not an upload id: ${uploadId}`);
  return { input: path.join(deps.config.dataDir, 'uploads', uploadId) };
}
