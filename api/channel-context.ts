// The channel a `/{slug}` route acts on, loaded once before its handler: c.var.channel (with its owner's name and
// current broadcast) and c.var.rank, the caller's standing on it; the handler then names the rule it needs
// (requireRank(c, 'edit')). It wraps the handler rather than sitting in the route's middleware because Hono runs route
// middleware before zod validation: validate, then load, then act — a malformed request is a 400 before any query, and
// a missing channel's 404 comes before a 401/403, as every route answered when each loaded its channel itself.
import type { Next } from 'hono';
import type { RouteConfig, RouteHandler } from '@hono/zod-openapi';
import { and, eq, isNull, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { channel, liveSession, user, type Db } from '../shared/db/index.ts';
import { notFound } from '../shared/errors.ts';
import { channelForbidden, channelRankOf, rankAllows, requireUser, type ChannelRank, type channelRules } from './access.ts';
import type { AppEnv, SessionUser } from './context.ts';

const columns = {
  id: channel.id,
  slug: channel.slug,
  title: channel.title,
  description: channel.description,
  category: channel.category,
  tags: channel.tags,
  avatarKey: channel.avatarKey,
  avatarType: channel.avatarType,
  subscribersOnlyLive: channel.subscribersOnlyLive,
  subscribersOnlyVods: channel.subscribersOnlyVods,
  ownerId: channel.ownerId,
  ownerName: user.name,
  createdAt: channel.createdAt,
  updatedAt: channel.updatedAt,
  liveId: liveSession.id,
  liveSource: liveSession.source,
  liveStartedAt: liveSession.startedAt,
  liveViewers: liveSession.viewers,
  liveTitle: liveSession.title,
  liveCategory: liveSession.category,
  followers: channel.followerCount,
};
/** Channels with their owner's name and current broadcast; `extra` adds fields (from tables the caller joins). */
export const selectChannels = <E extends Record<string, SQL | AnyPgColumn>>(db: Db, extra: E = {} as E) =>
  db
    .select({ ...columns, ...extra })
    .from(channel)
    .innerJoin(user, eq(user.id, channel.ownerId))
    .leftJoin(liveSession, and(eq(liveSession.channelId, channel.id), isNull(liveSession.endedAt)));
export type ChannelRow = Awaited<ReturnType<ReturnType<typeof selectChannels>['execute']>>[number];

/** Loads a channel by slug with its owner's name, or throws not-found. */
export async function loadChannel(db: Db, slug: string): Promise<ChannelRow> {
  const [row] = await selectChannels(db).where(eq(channel.slug, slug)).limit(1);
  if (!row) throw notFound(`Channel "${slug}"`);
  return row;
}

/** What a channel route's handler can reach besides AppEnv's: the channel and the caller's rank on it. */
export type ChannelVars = {
  channel: ChannelRow;
  /** the channel's owner, else the caller's site role; null when anonymous */
  rank: ChannelRank | null;
};
export type ChannelEnv = { Variables: AppEnv['Variables'] & ChannelVars };
/**
 * A `/{slug}` route with its handler, for `.openapi(...withChannel(route, handler))`: after the route's params and body
 * are validated, loads the slug's channel (404 problem+json when there is none) into c.var.channel and the caller's
 * rank into c.var.rank, then runs the handler.
 */
export function withChannel<R extends RouteConfig>(
  route: R,
  handler: RouteHandler<R, ChannelEnv>,
): [R, RouteHandler<R, AppEnv>] {
  const run = async (c: Parameters<RouteHandler<R, AppEnv>>[0], next: Next) => {
    const found = await loadChannel(c.var.deps.database.db, c.req.param('slug') ?? '');
    // the same context, typed from here on with the two variables it now holds (Hono types a context's variables
    // statically, per env)
    const withVars = c as unknown as Parameters<RouteHandler<R, ChannelEnv>>[0];
    withVars.set('channel', found);
    withVars.set('rank', c.var.user ? channelRankOf(c.var.user, found.ownerId) : null);
    return handler(withVars, next);
  };
  // an async handler answers Promise<A | B> where zod-openapi's type reads Promise<A> | Promise<B>: the same answers
  return [route, run as unknown as RouteHandler<R, AppEnv>];
}

/** The signed-in caller, if their rank on the route's channel allows `action` (401 anonymous, 403 otherwise). */
export function requireRank(c: { var: AppEnv['Variables'] & ChannelVars }, action: keyof typeof channelRules): SessionUser {
  const u = requireUser(c);
  if (c.var.rank && rankAllows(c.var.rank, action)) return u;
  throw channelForbidden(action);
}
