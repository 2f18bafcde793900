import { pino, type Logger } from 'pino';

export type { Logger };

/** One pino logger per process; services take children of it (`logger.child({ svc: 'api' })`). */
export function createLogger(level: string, name = 'glint'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
