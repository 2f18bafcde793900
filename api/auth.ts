// Accounts: better-auth (email + password, session cookie) on Glint's drizzle schema.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { betterAuth } from 'better-auth';
import { APIError } from 'better-auth/api';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { count } from 'drizzle-orm';
import type { Config } from '../shared/config.ts';
import { schema, user, type Db, type Role } from '../shared/db/index.ts';
import type { Logger } from '../shared/logger.ts';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
export const NAME_MAX = 80;

/** The configured secret, or one generated on first start and kept in DATA_DIR so sessions survive restarts. */
export async function resolveAuthSecret(config: Config): Promise<string> {
  if (config.authSecret) return config.authSecret;
  const file = path.join(config.dataDir, 'secret');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch {
    // first start: fall through and create it
  }
  const secret = randomBytes(32).toString('base64url');
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(file, secret + '\n', { mode: 0o600 });
  return secret;
}

/** Same-origin requests are trusted wherever Glint is served from (directly or through Caddy), plus configured ones. */
function requestOrigin(request: Request | undefined): string[] {
  const host = request?.headers.get('x-forwarded-host') ?? request?.headers.get('host');
  if (!host) return [];
  const proto = request?.headers.get('x-forwarded-proto') ?? new URL(request!.url).protocol.replace(':', '');
  return [`${proto}://${host}`];
}

export function createAuth(opts: { config: Config; db: Db; secret: string; log: Logger }) {
  const { config, db, secret, log } = opts;
  return betterAuth({
    appName: 'Glint',
    baseURL: config.publicUrl,
    basePath: '/api/auth',
    secret,
    database: drizzleAdapter(db, { provider: 'pg', schema }),
    emailAndPassword: {
      enabled: true,
      autoSignIn: true,
      minPasswordLength: PASSWORD_MIN,
      maxPasswordLength: PASSWORD_MAX,
    },
    user: {
      additionalFields: {
        // Never accepted from the client: set by the first-account rule below or by an admin.
        role: { type: 'string', required: false, defaultValue: 'user', input: false },
      },
    },
    trustedOrigins: async (request) => [config.publicUrl, ...config.trustedOrigins, ...requestOrigin(request)],
    telemetry: { enabled: false },
    rateLimit: { enabled: config.env === 'production' },
    logger: {
      log: (level, message) => {
        const fn = level === 'error' ? log.error : level === 'warn' ? log.warn : log.debug;
        fn.call(log, { svc: 'auth' }, message);
      },
    },
    databaseHooks: {
      user: {
        create: {
          // Names are shown to everyone: trimmed and bounded. The first account on an empty instance becomes its admin.
          before: async (data) => {
            const name = String(data.name ?? '').trim();
            if (!name || name.length > NAME_MAX) {
              throw new APIError('BAD_REQUEST', { message: `Your name must be 1–${NAME_MAX} characters.`, code: 'INVALID_NAME' });
            }
            const [row] = await db.select({ n: count() }).from(user);
            const role: Role = (row?.n ?? 0) === 0 ? 'admin' : 'user';
            if (role === 'admin') log.info({ email: data.email }, 'first account on this instance: made admin');
            return { data: { ...data, name, role } };
          },
        },
      },
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;
