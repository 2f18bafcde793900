// `npm start` entry: Glint on embedded defaults (or whatever the environment configures).
import { loadConfigOrExit } from '../shared/config.ts';
import { createLogger } from '../shared/logger.ts';
import { startApi } from './embedded.ts';
import { closeOnSignals } from './shutdown.ts';

const config = loadConfigOrExit();
const log = createLogger(config.logLevel);
const api = await startApi(config, { log });
const publicLine = config.publicUrl === api.url ? '' : `\n  Public URL:    ${config.publicUrl}`;
console.log(`\n  Glint is running at ${api.url}${publicLine}\n  API reference: ${api.url}/api/docs\n`);

closeOnSignals(log, 'shutting down', () => api.close());
