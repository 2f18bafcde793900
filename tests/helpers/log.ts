// A real pino logger whose lines a test can read: what a service logged, at which level, with which fields.
import { pino } from 'pino';
import type { Logger } from '../../shared/logger.ts';

export type LogLine = { level: number; msg: string; svc?: string; err?: { message: string; stack?: string } } & Record<string, unknown>;

/** pino's numeric levels */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

export function capturingLogger(level = 'info'): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level, base: null }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}
