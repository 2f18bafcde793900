// The recorder as its own service (docker-compose's `recorder`, or `npm run recorder` beside an API started with
// RECORDER_EMBEDDED=false): the same Recorder the API runs on embedded defaults, meeting the SFU only over the Redis
// bus and the plain RTP it asks for, sharing the database and the object store.
import { ConfigError, loadConfigOrExit } from '../shared/config.ts';
import { createBus } from '../shared/bus.ts';
import { openDatabase } from '../shared/db/index.ts';
import { createLogger } from '../shared/logger.ts';
import { createStore } from '../shared/storage.ts';
import { Recorder } from '../recorder/Recorder.ts';
import { closeOnSignals } from './shutdown.ts';

const config = loadConfigOrExit((c) => {
  if (!c.redisUrl || !c.databaseUrl) {
    throw new ConfigError('A separate recorder needs REDIS_URL (the SFU asks for its media over Redis) and DATABASE_URL (the embedded PGlite belongs to one process).');
  }
});
const log = createLogger(config.logLevel).child({ svc: 'recorder' });
const database = await openDatabase({ url: config.databaseUrl });
const bus = await createBus(config.redisUrl, config.redisPrefix, log.child({ svc: 'bus' }));
const store = await createStore(config.mediaDir, config.s3);
const recorder = await Recorder.create({ config, db: database.db, bus, store, log });
log.info({ rtpHost: config.recorder.rtpHost, store: store.kind, bus: bus.kind }, 'recorder ready');

closeOnSignals(log, 'recorder shutting down: finishing the recordings in progress', async () => {
  await recorder.close();
  await bus.close();
  await database.close();
});
