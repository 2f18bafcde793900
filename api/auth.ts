// Accounts: better-auth (email + password, session cookie) on Glint's drizzle schema.
import { betterAuth } from 'better-auth';
import { APIError } from 'better-auth/api';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { and, eq, lt, notExists, sql } from 'drizzle-orm';
import type { Config } from '../shared/config.ts';
import { schema, user, type Db } from '../shared/db/index.ts';
import { base64url, randomBytes } from '../shared/encoding.ts';
import { joinPath, readText, writeText } from '../shared/host/files.ts';
import type { Logger } from '../shared/logger.ts';
import { resetPasswordMail, verifyEmailMail, type Mail, type Mailer } from '../shared/mail.ts';
import { Email, firstIssue, ImageUrl, PASSWORD_MAX, PASSWORD_MIN, UserName } from '../shared/rules.ts';
import type { AuthLimitStorage } from './limits.ts';

export { NAME_MAX, PASSWORD_MAX, PASSWORD_MIN } from '../shared/rules.ts';

/**
 * The header better-auth reads the client's address from. The API sets it on every request it hands to better-auth,
 * from the address it resolved (shared/client-address.ts), after removing any copy the client sent; X-Forwarded-For
 * itself is never read by better-auth.
 */
export const CLIENT_ADDRESS_HEADER = 'x-glint-client-address';

/** better-auth endpoints (paths under /api/auth) that guess or change credentials, or send mail: few tries per address. */
export const SENSITIVE_AUTH_PATHS = [
  '/sign-in/*',
  '/sign-up/*',
  '/change-password',
  '/change-email',
  '/verify-password',
  '/delete-user',
  '/request-password-reset',
  '/reset-password',
  '/reset-password/*',
  '/forget-password',
  '/forget-password/*',
  '/send-verification-email',
  '/verify-email',
];

// pg_advisory_xact_lock key under which who is admin changes ('gadm')
const ADMIN_ROLES_LOCK = 0x6761646d;

/**
 * Serializes, until the transaction ends, every change of who is admin (the first account's promotion, role changes),
 * so a check such as "is there another admin?" still holds when the write lands.
 */
export async function lockAdminRoles(tx: Pick<Db, 'execute'>): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${ADMIN_ROLES_LOCK})`);
}

/** The user fields better-auth writes (sign-up, update-user, …), checked by Glint's rules; throws a 400 APIError. */
function checkUserFields(data: Record<string, unknown>, creating: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const check = <T>(field: string, code: string, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: Parameters<typeof firstIssue>[0] } }) => {
    if (data[field] === undefined && !(creating && field === 'name')) return;
    const r = schema.safeParse(data[field]);
    if (!r.success) throw new APIError('BAD_REQUEST', { message: firstIssue(r.error), code });
    out[field] = r.data;
  };
  check('name', 'INVALID_NAME', UserName);
  check('email', 'INVALID_EMAIL', Email);
  check('image', 'INVALID_IMAGE', ImageUrl);
  return out;
}

/**
 * Makes `created` the admin if it is the first account on an instance without one. Concurrent sign-ups are serialized
 * by an advisory lock, under which each sees the others' committed rows: exactly one of them becomes admin.
 */
export async function claimFirstAdmin(db: Db, created: { id: string; createdAt: Date }): Promise<boolean> {
  return db.transaction(async (tx) => {
    await lockAdminRoles(tx);
    const promoted = await tx
      .update(user)
      .set({ role: 'admin' })
      .where(
        and(
          eq(user.id, created.id),
          notExists(tx.select({ one: sql`1` }).from(user).where(eq(user.role, 'admin'))),
          notExists(tx.select({ one: sql`1` }).from(user).where(lt(user.createdAt, created.createdAt))),
        ),
      )
      .returning({ id: user.id });
    return promoted.length > 0;
  });
}

/** The configured secret, or one generated on first start and kept in DATA_DIR so sessions survive restarts. */
export async function resolveAuthSecret(config: Config): Promise<string> {
  if (config.authSecret) return config.authSecret;
  const file = joinPath(config.dataDir, 'secret');
  try {
    const existing = (await readText(file)).trim();
    if (existing.length >= 32) return existing;
  } catch {
    // first start: fall through and create it
  }
  const secret = base64url(randomBytes(32));
  await writeText(file, secret + '\n', 0o600);
  return secret;
}

/** Same-origin requests are trusted wherever Glint is served from (directly or through Caddy), plus configured ones. */
function requestOrigin(request: Request | undefined): string[] {
  const host = request?.headers.get('x-forwarded-host') ?? request?.headers.get('host');
  if (!host) return [];
  const proto = request?.headers.get('x-forwarded-proto') ?? new URL(request!.url).protocol.replace(':', '');
  return [`${proto}://${host}`];
}

/** How long a password-reset link works (seconds). */
export const RESET_TOKEN_SECONDS = 3600;
/** How long an email-verification link works (seconds). */
export const VERIFY_TOKEN_SECONDS = 24 * 3600;

/** The web app's pages the links in Glint's mail open (they call better-auth with the token). */
export const mailLink = (config: Config, page: 'reset-password' | 'verify-email', token: string) => `${config.publicUrl}/${page}?token=${encodeURIComponent(token)}`;

export type AuthOptions = {
  config: Config;
  db: Db;
  secret: string;
  log: Logger;
  mailer: Mailer;
  limitStorage?: AuthLimitStorage;
  /** Runs before an account is deleted (its channels and their files go first). */
  beforeDeleteUser?: (userId: string) => Promise<void>;
  /** Runs once an account is deleted. */
  afterDeleteUser?: (userId: string) => Promise<void>;
  /** Runs after an account's fields changed (its name is shown on its channels: their cached JSON goes). */
  afterUpdateUser?: (userId: string) => Promise<void>;
};

export function createAuth(opts: AuthOptions) {
  const { config, db, secret, log, mailer } = opts;
  const attempts = { window: config.limits.authWindowSeconds, max: config.limits.authAttempts };
  // A failed delivery is logged, not answered: the reply to "reset my password" must not tell who has an account, and
  // the person can ask again.
  const deliver = async (mail: Mail, what: string) => {
    try {
      await mailer.send(mail);
      log.info({ svc: 'mail', via: mailer.kind, what }, 'mail sent');
    } catch (err) {
      log.error({ svc: 'mail', via: mailer.kind, what, err }, 'could not send mail');
    }
  };
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
      // off by default (REQUIRE_EMAIL_VERIFICATION): on embedded defaults the mail waits in the outbox
      requireEmailVerification: config.mail.requireVerification,
      resetPasswordTokenExpiresIn: RESET_TOKEN_SECONDS,
      // whoever reset the password is the one who holds the account now: every other session ends
      revokeSessionsOnPasswordReset: true,
      sendResetPassword: ({ user, token }) => deliver(resetPasswordMail(user.email, user.name, mailLink(config, 'reset-password', token)), 'reset-password'),
    },
    emailVerification: {
      sendOnSignUp: true,
      // with REQUIRE_EMAIL_VERIFICATION, a refused sign-in sends a fresh link
      sendOnSignIn: true,
      autoSignInAfterVerification: true,
      expiresIn: VERIFY_TOKEN_SECONDS,
      sendVerificationEmail: ({ user, token }) => deliver(verifyEmailMail(user.email, user.name, mailLink(config, 'verify-email', token)), 'verify-email'),
    },
    user: {
      // the settings page's "Delete account": password confirmed by better-auth, channels removed first
      deleteUser: {
        enabled: true,
        beforeDelete: async (u) => {
          await opts.beforeDeleteUser?.(u.id);
        },
        afterDelete: async (u) => {
          await opts.afterDeleteUser?.(u.id);
        },
      },
      additionalFields: {
        // Never accepted from the client: set by the first-account rule below or by an admin.
        role: { type: 'string', required: false, defaultValue: 'user', input: false },
      },
    },
    trustedOrigins: async (request) => [config.publicUrl, ...config.trustedOrigins, ...requestOrigin(request)],
    telemetry: { enabled: false },
    // On in every NODE_ENV (better-auth's default is production only): a few attempts per address at the endpoints
    // that guess passwords or create accounts, its own default budget at the rest. The address is the one the API
    // resolved (see CLIENT_ADDRESS_HEADER); the counts live with Glint's other limits (in Redis with REDIS_URL).
    rateLimit: {
      enabled: true,
      customRules: Object.fromEntries(SENSITIVE_AUTH_PATHS.map((p) => [p, attempts])),
      ...(opts.limitStorage ? { customStorage: opts.limitStorage } : {}),
    },
    advanced: { ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] } },
    logger: {
      log: (level, message) => {
        const fn = level === 'error' ? log.error : level === 'warn' ? log.warn : log.debug;
        fn.call(log, { svc: 'auth' }, message);
      },
    },
    databaseHooks: {
      user: {
        create: {
          // Names are shown to everyone: the same rules as every other entry (shared/rules.ts). Everyone starts as a
          // user; the first account on an empty instance is promoted once it is stored (claimFirstAdmin).
          before: async (data) => ({ data: { ...data, ...checkUserFields(data, true), role: 'user' } }),
          after: async (created) => {
            if (!config.firstUserAdmin) return;
            if (await claimFirstAdmin(db, created)) log.info({ email: created.email }, 'first account on this instance: made admin');
          },
        },
        update: {
          // update-user (and anything else better-auth writes) passes the same checks as sign-up
          before: async (data) => ({ data: { ...data, ...checkUserFields(data, false) } }),
          after: async (updated) => {
            await opts.afterUpdateUser?.(updated.id);
          },
        },
      },
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;
