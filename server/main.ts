// `npm start` entry: Glint on embedded defaults (or whatever the environment configures).
import { loadConfigOrExit } from '../shared/config.ts';
import { createLogger } from '../shared/logger.ts';
import { startApi } from './embedded.ts';

const config = loadConfigOrExit();
const log = createLogger(config.logLevel);
const api = await startApi(config, { log });
const publicLine = config.publicUrl === api.url ? '' : `\n  Public URL:    ${config.publicUrl}`;
console.log(`\n  Glint is running at ${api.url}${publicLine}\n  API reference: ${api.url}/api/docs\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutting down');
    api.close().then(() => process.exit(0), (err) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  });
}
