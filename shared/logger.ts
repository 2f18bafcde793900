import { pino, type Logger } from 'pino';
import { pid } from './host/process.ts';

export type { Logger };

/** One pino logger per process; services take children of it (`logger.child({ svc: 'api' })`). */
export function createLogger(level: string, name = 'glint'): Logger {
  return pino({ name, level, base: { pid: pid() } });
}

/** How often a failure that goes on (Redis or the database away) is logged again while it lasts. */
export const LOG_EVERY_MS = 30_000;

/** A rate-limited warning: the first failure and then one every LOG_EVERY_MS, with how many were not logged. */
export function throttledWarn(log: Logger | undefined, what: string, everyMs = LOG_EVERY_MS): (err: unknown) => void {
  let last = 0;
  let skipped = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < everyMs) {
      skipped++;
      return;
    }
    log?.warn({ err: err instanceof Error ? err.message : String(err), skipped }, what);
    last = now;
    skipped = 0;
  };
}
