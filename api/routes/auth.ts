// better-auth's endpoints, mounted under /api/auth and described in the OpenAPI document (the ones the web app uses).
import { Hono, type Context } from 'hono';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { asUnavailable } from '../../shared/db/errors.ts';
import { invalid, problemForStatus } from '../../shared/errors.ts';
import { CLIENT_ADDRESS_HEADER, NAME_MAX, PASSWORD_MAX, PASSWORD_MIN } from '../auth.ts';
import type { AppEnv } from '../context.ts';
import { ProblemSchema, z } from '../openapi.ts';

/**
 * better-auth, handed the request with the client's address as the API resolved it (CLIENT_ADDRESS_HEADER, replacing
 * whatever the client sent under that name), so its per-address limits count what every other limit counts. The body
 * was read (and checked) by the API's text rule already, so the one Hono kept is handed on. Its error replies come
 * back as problem+json like every other error (authProblem).
 */
export const authApp = new Hono<AppEnv>().on(['GET', 'POST'], '/*', async (c) => {
  const { auth, limits } = c.var.deps;
  const address = c.var.address;
  if (c.req.method === 'POST' && c.req.path.startsWith('/api/auth/sign-up/')) {
    await limits.take('sign-ups from this address', [limits.signUpsPerAddress, address]);
    await limits.take('sign-ups on this instance', [limits.signUps, 'all']);
  }
  const headers = new Headers(c.req.raw.headers);
  headers.delete(CLIENT_ADDRESS_HEADER);
  headers.set(CLIENT_ADDRESS_HEADER, address);
  headers.delete('content-length'); // the body below is the decoded text, which may be shorter (a byte-order mark)
  const body = c.req.method === 'POST' && c.req.raw.body ? await c.req.text() : undefined;
  // better-auth deletes an account without its password when the session is "fresh" (under a day old): here a
  // deletion always needs the password, so a stolen or left-open session cannot delete an account on its own
  if (c.req.method === 'POST' && c.req.path === '/api/auth/delete-user') requirePassword(body);
  const res = await auth.handler(new Request(c.req.url, { method: c.req.method, headers, body, signal: c.req.raw.signal })).catch((err: unknown) => {
    throw asUnavailable(err) ?? err;
  });
  if (res.status >= 500) {
    // better-auth answers a failed query with a bare 500: when the database is what failed, it is the same 503 (with
    // Retry-After) every other route answers
    const down = await c.var.deps.database.ping().then(() => undefined, (err: unknown) => asUnavailable(err));
    if (down) throw down;
  }
  if (res.status >= 400) return authProblem(c, res);
  return res;
});

/** A deletion's body must carry the account's password (checked by better-auth against the stored hash). */
function requirePassword(body: string | undefined) {
  let password: unknown;
  try {
    password = (JSON.parse(body ?? '') as { password?: unknown } | null)?.password;
  } catch {
    // not JSON: refused below like a missing password
  }
  if (typeof password !== 'string' || password === '') {
    throw invalid('Deleting an account needs its password.', [{ path: 'password', message: 'Enter your password to delete your account.' }]);
  }
}

/**
 * One of better-auth's error replies ({message, code} JSON, or an empty 404) as RFC 9457 problem+json. `code` and
 * `message` stay as extension members, so clients that read better-auth's codes (web/src/api.ts) keep working; its
 * validation messages ("[body.email] Invalid email address; …") become the problem's field errors.
 */
async function authProblem(c: Context<AppEnv>, res: Response): Promise<Response> {
  const { status } = res;
  const text = await res.text();
  let parsed: { message?: unknown; code?: unknown } = {};
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object') parsed = value;
  } catch {
    // an empty or non-JSON body: the status says it all
  }
  const message = typeof parsed.message === 'string' ? parsed.message : undefined;
  const code = typeof parsed.code === 'string' ? parsed.code : undefined;
  const errors = [...(message ?? '').matchAll(/\[body\.([^\]]+)\]\s*([^;]*)/g)].map(([, field, m]) => ({ path: `json.${field}`, message: m!.trim() }));
  if (status >= 500) c.var.deps.log.error({ status, code, message, path: c.req.path }, 'better-auth failed');
  const detail =
    status >= 500
      ? 'Something went wrong on our side; it has been logged.'
      : errors[0]
        ? `${errors[0].path}: ${errors[0].message}`
        : (message ?? (status === 404 ? `No route for ${c.req.method} ${c.req.path}.` : 'The request was refused.'));
  const problem = {
    ...problemForStatus(status, detail, c.req.path),
    ...(errors.length ? { errors } : {}),
    ...(code ? { code } : {}),
    ...(message && status < 500 ? { message } : {}),
  };
  const headers = new Headers(res.headers);
  headers.set('Content-Type', 'application/problem+json');
  headers.delete('content-length');
  // better-auth says when to retry in X-Retry-After only; clients and proxies read Retry-After
  const retry = headers.get('x-retry-after');
  if (status === 429 && retry && !headers.has('retry-after')) headers.set('Retry-After', retry);
  return new Response(JSON.stringify(problem), { status, headers });
}

const AuthUser = z
  .object({ id: z.string(), name: z.string(), email: z.string(), emailVerified: z.boolean(), role: z.string().optional() })
  .passthrough()
  .openapi('AuthUser');
const AuthProblem = ProblemSchema.extend({
  code: z.string().optional().openapi({ description: "better-auth's error code (INVALID_EMAIL_OR_PASSWORD, USER_ALREADY_EXISTS, ...)" }),
  message: z.string().optional().openapi({ description: "better-auth's own message" }),
}).openapi('AuthProblem', { description: 'RFC 9457 problem details with better-auth\'s code and message as extension members.' });
const authError = (description: string) => ({ description, content: { 'application/problem+json': { schema: AuthProblem } } });
const tooLargeBody = authError('The body is larger than the limit (MAX_BODY_BYTES).');
const notJson = authError('The body is not JSON (Content-Type: application/json), or there is none.');
const ok = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const limited = {
  description: 'Rate limited (Retry-After says when to try again): better-auth\'s per-address attempts, or Glint\'s sign-ups per address and per hour.',
  content: { 'application/problem+json': { schema: AuthProblem } },
};

/** Adds the auth endpoints to the OpenAPI registry (better-auth serves them; this only documents them). */
export function documentAuth(app: OpenAPIHono<AppEnv>) {
  const r = app.openAPIRegistry;
  const tags = ['auth'];
  r.registerPath({
    method: 'post',
    path: '/api/auth/sign-up/email',
    tags,
    summary: 'Create an account and sign in (the first account on an empty instance becomes admin)',
    request: {
      body: {
        content: {
          'application/json': {
            schema: z.object({
              name: z.string().trim().min(1).max(NAME_MAX),
              email: z.email(),
              password: z.string().min(PASSWORD_MIN).max(PASSWORD_MAX),
            }),
          },
        },
      },
    },
    responses: {
      200: ok(z.object({ token: z.string().nullable(), user: AuthUser }).passthrough(), 'Signed up; the session cookie is set.'),
      400: authError('Invalid name, email or password (the fields are listed), or text with a NUL or invalid Unicode.'),
      403: authError('Origin not trusted.'),
      413: tooLargeBody,
      415: notJson,
      422: authError('An account with this email exists, or the name breaks the name rules.'),
      429: limited,
    },
  });
  r.registerPath({
    method: 'post',
    path: '/api/auth/sign-in/email',
    tags,
    summary: 'Sign in',
    request: {
      body: { content: { 'application/json': { schema: z.object({ email: z.email(), password: z.string(), rememberMe: z.boolean().optional() }) } } },
    },
    responses: {
      200: ok(z.object({ token: z.string(), user: AuthUser }).passthrough(), 'Signed in; the session cookie is set.'),
      400: authError('Malformed request.'),
      401: authError('Wrong email or password.'),
      403: authError('Origin not trusted, or the email is not verified.'),
      413: tooLargeBody,
      415: notJson,
      429: limited,
    },
  });
  r.registerPath({
    method: 'post',
    path: '/api/auth/sign-out',
    tags,
    summary: 'Sign out',
    responses: {
      200: ok(z.object({ success: z.boolean() }), 'Signed out; the cookie is cleared.'),
      400: authError('Not signed in, or the body is not a JSON object.'),
      403: authError('Origin not trusted.'),
      413: tooLargeBody,
      415: notJson,
      429: limited,
    },
  });
  r.registerPath({
    method: 'get',
    path: '/api/auth/get-session',
    tags,
    summary: 'The current session, or null',
    responses: { 200: ok(z.object({ session: z.object({}).passthrough(), user: AuthUser }).nullable(), 'Session and user, or null.'), 429: limited },
  });
  const body = (schema: z.ZodType) => ({ body: { content: { 'application/json': { schema } } } });
  const status = ok(z.object({ status: z.boolean() }).passthrough(), 'Done.');
  const common = { 403: authError('Origin not trusted.'), 413: tooLargeBody, 415: notJson, 429: limited };
  r.registerPath({
    method: 'post',
    path: '/api/auth/request-password-reset',
    tags,
    summary: 'Mail a password-reset link (the same answer whether or not the address has an account)',
    request: body(z.object({ email: z.email() })),
    responses: { 200: status, 400: authError('Malformed email.'), ...common },
  });
  r.registerPath({
    method: 'post',
    path: '/api/auth/reset-password',
    tags,
    summary: "Set a new password with the mailed link's token (once; every session of the account ends)",
    request: body(z.object({ token: z.string(), newPassword: z.string().min(PASSWORD_MIN).max(PASSWORD_MAX) })),
    responses: { 200: status, 400: authError('The token is wrong, used or expired (INVALID_TOKEN), or the password breaks the length rules.'), ...common },
  });
  r.registerPath({
    method: 'post',
    path: '/api/auth/send-verification-email',
    tags,
    summary: 'Mail a fresh email-verification link',
    request: body(z.object({ email: z.email() })),
    responses: { 200: status, 400: authError('The email is verified already, or malformed.'), 401: authError('Not signed in.'), ...common },
  });
  r.registerPath({
    method: 'get',
    path: '/api/auth/verify-email',
    tags,
    summary: "Verify an email address with the mailed link's token (signs in as its account)",
    request: { query: z.object({ token: z.string() }) },
    responses: {
      200: ok(z.object({ status: z.boolean(), user: z.object({ id: z.string() }).passthrough().nullable() }).passthrough(), 'Verified (user: the account, or null when the request had no session).'),
      401: authError('The token is wrong (INVALID_TOKEN) or expired (TOKEN_EXPIRED).'),
      429: limited,
    },
  });
  r.registerPath({
    method: 'post',
    path: '/api/auth/update-user',
    tags,
    summary: 'Change your display name (or avatar URL)',
    request: body(z.object({ name: z.string().trim().min(1).max(NAME_MAX).optional(), image: z.string().nullable().optional() })),
    responses: { 200: status, 400: authError('The name breaks the name rules.'), 401: authError('Not signed in.'), ...common },
  });
  r.registerPath({
    method: 'post',
    path: '/api/auth/change-password',
    tags,
    summary: 'Change your password (the current one required); other sessions end when revokeOtherSessions',
    request: body(z.object({ currentPassword: z.string(), newPassword: z.string().min(PASSWORD_MIN).max(PASSWORD_MAX), revokeOtherSessions: z.boolean().optional() })),
    responses: {
      200: ok(z.object({ token: z.string().nullable(), user: AuthUser }).passthrough(), 'Changed.'),
      400: authError('The current password is wrong (INVALID_PASSWORD), or the new one breaks the length rules.'),
      401: authError('Not signed in.'),
      ...common,
    },
  });
  r.registerPath({
    method: 'post',
    path: '/api/auth/delete-user',
    tags,
    summary: 'Delete your account with your password: your channels, their recordings, chat and followers go with it',
    request: body(z.object({ password: z.string() })),
    responses: {
      200: ok(z.object({ success: z.boolean() }).passthrough(), 'Deleted; the session cookie is cleared.'),
      400: authError('The password is wrong (INVALID_PASSWORD).'),
      401: authError('Not signed in.'),
      ...common,
    },
  });
}
