// better-auth's endpoints, mounted under /api/auth and described in the OpenAPI document (the ones the web app uses).
import { Hono } from 'hono';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { CLIENT_ADDRESS_HEADER, NAME_MAX, PASSWORD_MAX, PASSWORD_MIN } from '../auth.ts';
import type { AppEnv } from '../context.ts';
import { ProblemSchema, z } from '../openapi.ts';

/**
 * better-auth, handed the request with the client's address as the API resolved it (CLIENT_ADDRESS_HEADER, replacing
 * whatever the client sent under that name), so its per-address limits count what every other limit counts.
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
  const res = await auth.handler(new Request(c.req.raw, { headers }));
  // better-auth says when to retry in X-Retry-After only; clients and proxies read Retry-After
  const retry = res.headers.get('x-retry-after');
  if (res.status === 429 && retry && !res.headers.has('retry-after')) {
    const out = new Response(res.body, res);
    out.headers.set('Retry-After', retry);
    return out;
  }
  return res;
});

const AuthUser = z
  .object({ id: z.string(), name: z.string(), email: z.string(), emailVerified: z.boolean(), role: z.string().optional() })
  .passthrough()
  .openapi('AuthUser');
const AuthError = z.object({ message: z.string(), code: z.string().optional() }).passthrough().openapi('AuthError');
const authError = (description: string) => ({ description, content: { 'application/json': { schema: AuthError } } });
const ok = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const limited = {
  description: 'Rate limited (Retry-After says when to try again): better-auth\'s per-address attempts, or Glint\'s sign-ups per address and per hour.',
  content: { 'application/json': { schema: AuthError }, 'application/problem+json': { schema: ProblemSchema } },
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
      400: authError('Invalid email or password.'),
      403: authError('Origin not trusted.'),
      413: { description: 'Body too large.' },
      422: authError('An account with this email exists.'),
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
      403: authError('Origin not trusted.'),
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
      400: authError('Not signed in.'),
      403: authError('Origin not trusted.'),
    },
  });
  r.registerPath({
    method: 'get',
    path: '/api/auth/get-session',
    tags,
    summary: 'The current session, or null',
    responses: { 200: ok(z.object({ session: z.object({}).passthrough(), user: AuthUser }).nullable(), 'Session and user, or null.') },
  });
}
