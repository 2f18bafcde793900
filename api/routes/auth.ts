// better-auth's endpoints, mounted under /api/auth and described in the OpenAPI document (the ones the web app uses).
import { Hono } from 'hono';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { NAME_MAX, PASSWORD_MAX, PASSWORD_MIN } from '../auth.ts';
import type { AppEnv } from '../context.ts';
import { z } from '../openapi.ts';

export const authApp = new Hono<AppEnv>().on(['GET', 'POST'], '/*', (c) => c.var.deps.auth.handler(c.req.raw));

const AuthUser = z
  .object({ id: z.string(), name: z.string(), email: z.string(), emailVerified: z.boolean(), role: z.string().optional() })
  .passthrough()
  .openapi('AuthUser');
const AuthError = z.object({ message: z.string(), code: z.string().optional() }).passthrough().openapi('AuthError');
const authError = (description: string) => ({ description, content: { 'application/json': { schema: AuthError } } });
const ok = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

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
      429: authError('Rate limited.'),
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
      429: authError('Rate limited.'),
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
