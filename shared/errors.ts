// One error taxonomy for every service, rendered as RFC 9457 problem+json by the API's single onError.

export type ProblemType =
  | 'bad-request'
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'invalid-state'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'range-not-satisfiable'
  | 'rate-limited'
  | 'unavailable'
  | 'internal';

const statusOf: Record<ProblemType, number> = {
  'bad-request': 400,
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'invalid-state': 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'range-not-satisfiable': 416,
  'rate-limited': 429,
  unavailable: 503,
  internal: 500,
};

const titleOf: Record<ProblemType, string> = {
  'bad-request': 'Bad request',
  validation: 'Invalid input',
  unauthorized: 'Sign-in required',
  forbidden: 'Not allowed',
  'not-found': 'Not found',
  conflict: 'Conflict',
  'invalid-state': 'Invalid state',
  'payload-too-large': 'Payload too large',
  'unsupported-media-type': 'Unsupported media type',
  'range-not-satisfiable': 'Range not satisfiable',
  'rate-limited': 'Too many requests',
  unavailable: 'Temporarily unavailable',
  internal: 'Internal error',
};

export type FieldError = { path: string; message: string };

/** RFC 9457 problem details as Glint sends them. */
export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
};

export class AppError extends Error {
  readonly status: number;
  /** Seconds a refused client should wait before trying again (sent as Retry-After on 429 and 503). */
  retryAfterSeconds: number | undefined;
  constructor(
    readonly kind: ProblemType,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = 'AppError';
    this.status = statusOf[kind];
  }

  toProblem(instance?: string): Problem {
    return {
      type: `urn:glint:problem:${this.kind}`,
      title: titleOf[this.kind],
      status: this.status,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...(this.errors?.length ? { errors: this.errors } : {}),
    };
  }
}

export const badRequest = (msg: string, errors?: FieldError[]) => new AppError('bad-request', msg, errors);
export const invalid = (msg: string, errors?: FieldError[]) => new AppError('validation', msg, errors);
export const unauthorized = (msg = 'Sign in to do this.') => new AppError('unauthorized', msg);
export const forbidden = (msg = 'You are not allowed to do this.') => new AppError('forbidden', msg);
export const notFound = (what: string) => new AppError('not-found', `${what} was not found.`);
export const conflict = (msg: string) => new AppError('conflict', msg);
export const invalidState = (msg: string) => new AppError('invalid-state', msg);
export const tooLarge = (msg: string) => new AppError('payload-too-large', msg);
export const unsupportedMedia = (msg: string) => new AppError('unsupported-media-type', msg);
export const rangeNotSatisfiable = (msg: string) => new AppError('range-not-satisfiable', msg);
/** Sets how long to wait before retrying (whole seconds, at least 1); returns the error. */
function retryAfter(err: AppError, ms: number | undefined): AppError {
  if (ms !== undefined) err.retryAfterSeconds = Math.max(1, Math.ceil(ms / 1000));
  return err;
}
/** A server Glint depends on (Meilisearch, ...) is not answering, or a capacity is reached; worth retrying. */
export const unavailable = (msg: string, retryAfterMs?: number) => retryAfter(new AppError('unavailable', msg), retryAfterMs);
/** A per-address or per-user budget is used up: 429 with Retry-After. */
export const rateLimited = (msg: string, retryAfterMs: number) => retryAfter(new AppError('rate-limited', msg), retryAfterMs);

/** Problem for an HTTP status that did not come from an AppError (framework 404s, body-limit 413s, ...). */
export function problemForStatus(status: number, detail: string, instance?: string): Problem {
  const kind = (Object.keys(statusOf) as ProblemType[]).find((k) => statusOf[k] === status && k !== 'validation');
  return {
    type: kind ? `urn:glint:problem:${kind}` : 'about:blank',
    title: kind ? titleOf[kind] : 'Error',
    status,
    detail,
    ...(instance ? { instance } : {}),
  };
}

/** The headers of a problem answer: its media type, and Retry-After when the client should wait and try again. */
export function problemHeaders(retryAfterSeconds?: number): Record<string, string> {
  return { 'Content-Type': 'application/problem+json', ...(retryAfterSeconds ? { 'Retry-After': String(retryAfterSeconds) } : {}) };
}
