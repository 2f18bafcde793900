// `npm run start:deno` entry: the API and the web app on Deno (server/deno-api.ts), on embedded defaults (PGlite on
// disk) or PostgreSQL; live media needs the Node SFU service (`npm run sfu`) and SFU_URL.
import { loadConfigOrExit } from '../shared/config.ts';
import { createLogger } from '../shared/logger.ts';
import { startDenoApi } from './deno-api.ts';

const config = loadConfigOrExit();
const log = createLogger(config.logLevel);
const api = await startDenoApi(config, { log });
console.log(`\n  Glint (API on Deno ${Deno.version.deno}) is running at ${api.url}\n  API reference: ${api.url}/api/docs\n  Live media: ${config.sfuUrl ?? 'not connected (run `npm run sfu` with PostgreSQL and Redis, then set SFU_URL)'}\n`);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  Deno.addSignalListener(signal, () => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    api.close().then(() => Deno.exit(0), (err) => {
      log.error({ err }, 'shutdown failed');
      Deno.exit(1);
    });
  });
}
