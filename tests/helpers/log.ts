// A real pino logger whose lines a test can read: what a service logged, at which level, with which fields.
import { pino } from 'pino';
import type { Logger } from '../../shared/logger.ts';

export type LogLine = { level: number; msg: string; svc?: string; err?: { message: string; stack?: string; type?: string } } & Record<string, unknown>;

/** pino's numeric levels */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

/**
 * A pino logger that keeps its lines in memory. A long run (a fuzz) bounds them with `keep`: the first `keep` lines,
 * then only error-level ones, up to twice that.
 */
export function capturingLogger(level = 'info', keep = Infinity): { log: Logger; lines: LogLine[]; errors(): LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level, base: null }, {
    write: (s: string) => void ((lines.length < keep || (lines.length < 2 * keep && /"level":(50|60)/.test(s))) && lines.push(JSON.parse(s) as LogLine)),
  });
  return { log, lines, errors: () => lines.filter((l) => l.level >= LEVEL.error) };
}
