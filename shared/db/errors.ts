import { AppError, unavailable } from '../errors.ts';

/** True when a query failed on a unique constraint (PostgreSQL and PGlite both report SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/** Seconds a client is told to wait (Retry-After) while the database cannot be reached. */
export const DATABASE_RETRY_AFTER_MS = 5_000;

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', '57P01', '57P02', '57P03', '53300']);
const CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is closed|the database system is (starting up|shutting down)/i;

/**
 * True when a query failed because the database could not be reached (refused, reset, ended by a restart or an
 * administrator, the pool's connect timeout, too many connections): the request may succeed when it is back, so it
 * is a 503 to retry, not a 500. Looks through drizzle's wrapping (`cause`) to pg's error.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && CONNECTION_MESSAGES.test(message)) return true;
    const errors = (e as { errors?: unknown }).errors; // an AggregateError (every address of a host refused)
    if (Array.isArray(errors) && errors.some((x) => isDatabaseUnavailable(x))) return true;
  }
  return false;
}

/** `err` as the API answers it: a connection failure becomes the 503 `unavailable` problem (with Retry-After). */
export function asUnavailable(err: unknown): AppError | undefined {
  return isDatabaseUnavailable(err) ? unavailable('The database cannot be reached right now; try again in a few seconds.', DATABASE_RETRY_AFTER_MS) : undefined;
}
