// Pieces every route definition shares: the Problem schema, error responses, the validation hook, OpenAPIHono factory.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { invalid, type FieldError } from '../shared/errors.ts';
import type { AppEnv } from './context.ts';

export { z };

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
