// Who may do what. Every route names its rule here, so the authorization matrix reads in one place.
import type { Context, MiddlewareHandler } from 'hono';
import { forbidden, unauthorized } from '../shared/errors.ts';
import type { Role } from '../shared/db/index.ts';
import type { AppEnv, SessionUser } from './context.ts';

/** Resolves the better-auth session cookie (if any) into c.var.user for every request. */
export const loadUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { auth } = c.var.deps;
  const found = c.req.header('cookie') ? await auth.api.getSession({ headers: c.req.raw.headers }) : null;
  c.set(
    'user',
    found
      ? { id: found.user.id, name: found.user.name, email: found.user.email, role: (found.user.role ?? 'user') as Role }
      : null,
  );
  await next();
};

export function requireUser(c: Context<AppEnv>): SessionUser {
  const u = c.var.user;
  if (!u) throw unauthorized();
  return u;
}

export function requireRole(c: Context<AppEnv>, ...roles: Role[]): SessionUser {
  const u = requireUser(c);
  if (!roles.includes(u.role)) throw forbidden(`This needs the ${roles.join(' or ')} role.`);
  return u;
}

/** Actions on a channel and who may take them besides its owner. */
export const channelRules = {
  /** title, description, category, tags; removing an avatar */
  edit: ['admin', 'moderator'],
  /** deleting the channel, uploading an avatar */
  own: ['admin'],
  /** listing, creating, rotating and revoking stream keys */
  keys: ['admin'],
  /** registering webhooks and reading their delivery log; subscription tiers and grants */
  integrations: ['admin'],
} satisfies Record<string, Role[]>;

export function requireChannelAccess(
  c: Context<AppEnv>,
  channel: { ownerId: string },
  action: keyof typeof channelRules,
): SessionUser {
  const u = requireUser(c);
  if (u.id === channel.ownerId || (channelRules[action] as Role[]).includes(u.role)) return u;
  throw forbidden(
    action === 'keys' ? 'Only the channel owner can manage its stream keys.' : action === 'integrations' ? 'Only the channel owner can manage its webhooks and subscriptions.' : 'Only the channel owner can do this.',
  );
}
