// The VoD transcoder as its own service (docker-compose's `worker`, or `npm run worker` beside an API started with
// TRANSCODE_IN_API=false, or a Deno API, which never transcodes): transcoder/worker.ts on the API's database, bus
// and object store.
import { ConfigError, loadConfigOrExit } from '../shared/config.ts';
import { createLogger } from '../shared/logger.ts';
import { startWorker } from '../transcoder/worker.ts';
import { closeOnSignals } from './shutdown.ts';

const config = loadConfigOrExit((c) => {
  if (!c.databaseUrl) throw new ConfigError('A separate worker needs DATABASE_URL (the embedded PGlite belongs to one process).');
});
const log = createLogger(config.logLevel).child({ svc: 'worker' });
const worker = await startWorker(config, { log });
log.info({ nice: config.transcode.nice, stallSeconds: config.transcode.stallSeconds }, 'transcode worker ready');

closeOnSignals(log, 'worker shutting down: stopping the transcodes in progress (their jobs are retried)', () => worker.close());
