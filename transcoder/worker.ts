// The transcoder as its own service (`npm run worker`, docker-compose's `worker`): a Jobs runner that knows only the
// 'vod.transcode' kind, so it claims those jobs and nothing else, on the same database, bus and object store as the
// API. close() is idempotent and cascades: the running transcodes stop (their FFmpeg children killed; the jobs come
// back once their lease runs out, to this worker or another), then the runner, the bus and the database.
import { Jobs } from '../shared/jobs.ts';
import { createBus } from '../shared/bus.ts';
import type { Config } from '../shared/config.ts';
import { openDatabase, type Database } from '../shared/db/index.ts';
import type { Logger } from '../shared/logger.ts';
import { createUploadStore } from '../shared/host/upload-stores.ts';
import { createStore } from '../shared/storage.ts';
import { Transcoder } from './Transcoder.ts';

export type Worker = { transcoder: Transcoder; jobs: Jobs; close(): Promise<void> };

export async function startWorker(config: Config, opts: { log: Logger; database?: Database }): Promise<Worker> {
  const { log } = opts;
  const database = opts.database ?? (await openDatabase({ url: config.databaseUrl }));
  const bus = await createBus(config.redisUrl, config.redisPrefix, log.child({ svc: 'bus' }));
  const store = await createStore(config.mediaDir, config.s3);
  const uploads = await createUploadStore(config);
  const transcoder = new Transcoder({ config, db: database.db, bus, store, uploads, log });
  const jobs = new Jobs(database.db, log.child({ svc: 'jobs' }), config.jobs.pollMs);
  transcoder.define(jobs);
  jobs.start();
  let closing: Promise<void> | undefined;
  return {
    transcoder,
    jobs,
    close: () =>
      (closing ??= (async () => {
        await transcoder.close();
        await jobs.close();
        await bus.close();
        if (!opts.database) await database.close();
      })()),
  };
}
