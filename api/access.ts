// Who may do what. Every route names its rule here, so the authorization matrix reads in one place.
import type { Context, MiddlewareHandler } from 'hono';
import type { Config } from '../shared/config.ts';
import { forbidden, unauthorized } from '../shared/errors.ts';
import type { Role } from '../shared/db/index.ts';
import type { AppEnv, SessionUser } from './context.ts';
import { sessionOf } from './session.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin a browser says a request came from: Origin, else Referer's origin; undefined when neither is usable. */
function claimedOrigin(headers: Headers): string | undefined {
  const origin = headers.get('origin');
  if (origin && origin !== 'null') return origin;
  const referer = headers.get('referer');
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/**
 * Glint's own origin (as configured, or as this request was addressed), or one the operator trusts. A request the
 * browser marks cross-site or same-site (Sec-Fetch-Site) did not come from Glint's own origin, whatever it claims:
 * only the trusted ones pass then.
 */
export function isTrustedOrigin(origin: string, headers: Headers, config: Config, crossSite: boolean): boolean {
  if (config.trustedOrigins.includes(origin)) return true;
  if (crossSite) return false;
  if (origin === config.publicUrl) return true;
  return [headers.get('host'), headers.get('x-forwarded-host')].some((h) => !!h && (origin === `http://${h}` || origin === `https://${h}`));
}

/**
 * A state change that carries cookies must come from a page of a trusted origin (cross-site request forgery).
 * JSON bodies already need a Content-Type no form can send; this covers the body-less PUT/POST/DELETE too. Requests
 * without cookies (API clients) carry no one else's session and pass. better-auth's endpoints (/api/auth) apply the
 * same rule themselves (trustedOrigins in api/auth.ts) and answer in their own error shape.
 */
export const requireTrustedOrigin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!SAFE_METHODS.has(c.req.method) && c.req.header('cookie') && !c.req.path.startsWith('/api/auth/')) {
    const headers = c.req.raw.headers;
    const site = headers.get('sec-fetch-site');
    const origin = claimedOrigin(headers);
    if (!origin) throw forbidden('A request that carries a session cookie must say where it comes from (Origin).');
    if (!isTrustedOrigin(origin, headers, c.var.deps.config, site === 'cross-site' || site === 'same-site')) {
      throw forbidden(`Requests from ${origin} may not use your session here.`);
    }
  }
  await next();
};

/** Resolves the better-auth session cookie (if any) into c.var.user for every request. */
export const loadUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { auth } = c.var.deps;
  const found = c.req.header('cookie') ? await sessionOf(auth, c.req.raw.headers) : null;
  c.set(
    'user',
    found
      ? { id: found.user.id, name: found.user.name, email: found.user.email, role: (found.user.role ?? 'user') as Role }
      : null,
  );
  await next();
};

/** Anything holding the request's variables: a route's context, whatever else its env adds. */
type WithUser = { var: Pick<AppEnv['Variables'], 'user'> };

export function requireUser(c: WithUser): SessionUser {
  const u = c.var.user;
  if (!u) throw unauthorized();
  return u;
}

export function requireRole(c: WithUser, ...roles: Role[]): SessionUser {
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

/** Where a caller stands on a channel: its owner, else their site role (which channelRules may let act for the owner). */
export type ChannelRank = 'owner' | Role;

/** The rank of a signed-in caller on the channel `ownerId` owns. */
export function channelRankOf(u: SessionUser, ownerId: string): ChannelRank {
  return u.id === ownerId ? 'owner' : u.role;
}

/** Whether a caller of this rank may take `action` on a channel. */
export function rankAllows(rank: ChannelRank, action: keyof typeof channelRules): boolean {
  return rank === 'owner' || (channelRules[action] as Role[]).includes(rank);
}

/** The 403 for a signed-in caller whose rank does not allow `action`. */
export function channelForbidden(action: keyof typeof channelRules) {
  return forbidden(
    action === 'keys' ? 'Only the channel owner can manage its stream keys.' : action === 'integrations' ? 'Only the channel owner can manage its webhooks and subscriptions.' : 'Only the channel owner can do this.',
  );
}

/** The signed-in caller, if allowed `action` on the channel (or what belongs to it: a VoD) `ownerId` owns. */
export function requireChannelAccess(
  c: WithUser,
  channel: { ownerId: string },
  action: keyof typeof channelRules,
): SessionUser {
  const u = requireUser(c);
  if (rankAllows(channelRankOf(u, channel.ownerId), action)) return u;
  throw channelForbidden(action);
}
