// Pieces every route definition shares: the Problem schema, error responses, the validation hook, OpenAPIHono factory.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { invalid, type FieldError } from '../shared/errors.ts';
import type { AppEnv } from './context.ts';
import { IMAGE_TYPES } from './images.ts';

export { z };

/** A request or response body that is one image, in any type the API takes (avatars, emotes). */
export const imageContent = () => Object.fromEntries(IMAGE_TYPES.map((t) => [t, { schema: z.string().openapi({ format: 'binary' }) }]));

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details.' });

const problemText: Record<number, string> = {
  400: 'Invalid input (problem+json lists the fields).',
  401: 'Not signed in.',
  403: 'Signed in, but not allowed.',
  404: 'No such resource.',
  409: 'Conflicts with the current state.',
  413: 'Body too large.',
  415: 'Unsupported content type.',
  429: 'Rate limited.',
  503: 'A server Glint depends on is not answering; try again shortly.',
};

/** OpenAPI response entries for the listed error statuses, all problem+json. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: problemText[s] ?? 'Error', content: { 'application/problem+json': { schema: ProblemSchema } } },
    ]),
  ) as Record<number, { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema } } }>;
}

/** JSON response entry. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

function toFieldErrors(error: z.ZodError, target: string): FieldError[] {
  return error.issues.map((i) => ({ path: [target, ...i.path.map(String)].join('.'), message: i.message }));
}

/** A sub-app whose zod validation failures become 400 problem+json naming each bad field. */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const errors = toFieldErrors(result.error as z.ZodError, result.target);
        const first = errors[0];
        throw invalid(first ? `${first.path}: ${first.message}` : 'Invalid input.', errors);
      }
    },
  });
}

// Instants clients may name: PostgreSQL has no year 0 and JavaScript none past 275760, and nothing Glint stores is
// older than 1970 or later than 9999 — outside that a date is a mistake, answered with a 400 rather than a 500.
const EARLIEST_MS = Date.UTC(1970, 0, 1);
const LATEST_MS = Date.UTC(10000, 0, 1) - 1;
const DAY_MS = 86_400_000;
const isoDate = z.iso.date();
const isoDateTime = z.iso.datetime({ offset: true });

/**
 * The one parser of dates from clients: a day (2026-11-25, UTC) or a date-time with an offset, a real calendar date
 * in 1970–9999, as a Date. With `end`, a bare day means its last millisecond (the end of a range).
 */
export function toInstant(s: string, end = false): Date | undefined {
  const day = isoDate.safeParse(s).success;
  if (!day && !isoDateTime.safeParse(s).success) return undefined;
  const ms = new Date(s).getTime() + (day && end ? DAY_MS - 1 : 0);
  return Number.isFinite(ms) && ms >= EARLIEST_MS && ms <= LATEST_MS ? new Date(ms) : undefined;
}

/** A query or body field holding a date or date-time (see toInstant); documented as a string. */
export function instant(opts: { end?: boolean; description?: string } = {}) {
  return z
    .string()
    .max(64)
    .transform((s, ctx) => {
      const at = toInstant(s, opts.end);
      if (!at) ctx.addIssue({ code: 'custom', message: 'use a date (2026-11-25) or a date and time (2026-11-25T10:00:00Z) between 1970 and 9999' });
      return at ?? z.NEVER;
    })
    .openapi({ type: 'string', ...(opts.description ? { description: opts.description } : {}) });
}

/** A keyset page boundary: the last item's time and id, as `<ISO time>_<uuid>`. */
export const cursorOf = (at: Date, id: string) => `${at.toISOString()}_${id}`;

/** A cursor from a previous page (cursorOf), parsed with the same rules as every other date. */
export const PageCursor = z
  .string()
  .max(100)
  .transform((s, ctx) => {
    const cut = s.lastIndexOf('_');
    const at = cut > 0 ? toInstant(s.slice(0, cut)) : undefined;
    const id = s.slice(cut + 1);
    if (!at || !z.uuid().safeParse(id).success) {
      ctx.addIssue({ code: 'custom', message: 'not a cursor from a previous page' });
      return z.NEVER;
    }
    return { at, id };
  })
  .openapi({ type: 'string' });
