// Object storage behind one interface (shared/object-store.ts). The embedded default keeps objects on local disk
// under DATA_DIR/media; with S3_* configured they go to S3-compatible object storage (MinIO in docker-compose).
import { LocalStore, S3Store } from './host/object-stores.ts';
import type { ObjectStore, S3Settings } from './object-store.ts';

export type { ObjectStore, S3Settings } from './object-store.ts';
export { LocalStore, S3Store } from './host/object-stores.ts';

/** Local disk under `mediaDir`, or S3 when configured. */
export async function createStore(mediaDir: string, s3?: S3Settings): Promise<ObjectStore> {
  return s3 ? S3Store.open(s3) : new LocalStore(mediaDir);
}
