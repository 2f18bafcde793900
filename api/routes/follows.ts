// Follows: a signed-in user follows or unfollows a channel; anyone sees a channel's follower count; a user lists the
// channels they follow, live ones first.
import { createRoute } from '@hono/zod-openapi';
import { and, count, desc, eq, sql } from 'drizzle-orm';
import { channel, follow, liveSession, user } from '../../shared/db/index.ts';
import { AppError } from '../../shared/errors.ts';
import { requireUser } from '../access.ts';
import { loadChannel, requireRank, selectChannels, withChannel } from '../channel-context.ts';
import type { AppEnv } from '../context.ts';
import { json, problems, router, z } from '../openapi.ts';
import { ChannelSchema, serialize } from './channels.ts';

const FollowState = z
  .object({
    following: z.boolean().openapi({ description: 'Whether the signed-in user follows the channel (false when anonymous).' }),
    followers: z.number().int(),
  })
  .openapi('FollowState');
const FollowedChannel = ChannelSchema.extend({ followedAt: z.iso.datetime() }).openapi('FollowedChannel');
const SlugParam = z.object({ slug: z.string().max(64) });
const tags = ['follows'];

async function state(c: { var: AppEnv['Variables'] }, channelId: string): Promise<z.infer<typeof FollowState>> {
  const { db } = c.var.deps.database;
  const me = c.var.user;
  const [[total], mine] = await Promise.all([
    db.select({ n: channel.followerCount }).from(channel).where(eq(channel.id, channelId)),
    me ? db.select({ at: follow.createdAt }).from(follow).where(and(eq(follow.channelId, channelId), eq(follow.userId, me.id))).limit(1) : [],
  ]);
  return { following: mine.length > 0, followers: total?.n ?? 0 };
}

/** PUT/DELETE /api/channels/{slug}/follow, GET for the state. */
export const followsApp = router()
  .openapi(
    ...withChannel(
      createRoute({
        method: 'get',
        path: '/{slug}/follow',
        tags,
        summary: 'Whether you follow a channel, and its follower count',
        request: { params: SlugParam },
        responses: { 200: json(FollowState, 'The follow state.'), ...problems(404) },
      }),
      async (c) => {
        return c.json(await state(c, c.var.channel.id), 200);
      },
    ),
  )
  .openapi(
    createRoute({
      method: 'put',
      path: '/{slug}/follow',
      tags,
      summary: 'Follow a channel (again is fine)',
      request: { params: SlugParam },
      responses: { 200: json(FollowState, 'Following.'), ...problems(401, 404, 409, 429) },
    }),
    async (c) => {
      const me = requireUser(c);
      const { database, limits } = c.var.deps;
      const { db } = database;
      await limits.take('follows and unfollows', [limits.follows, me.id]);
      // not withChannel: a follow is signed in and within its budget before the channel is looked up (401, 429, then 404)
      const ch = await loadChannel(db, c.req.valid('param').slug);
      if (ch.ownerId === me.id) throw new AppError('invalid-state', 'You cannot follow your own channel.');
      await db.insert(follow).values({ userId: me.id, channelId: ch.id }).onConflictDoNothing();
      await c.var.deps.reads.invalidateChannel(ch.slug); // its follower count
      return c.json(await state(c, ch.id), 200);
    },
  )
  .openapi(
    createRoute({
      method: 'delete',
      path: '/{slug}/follow',
      tags,
      summary: 'Unfollow a channel (again is fine)',
      request: { params: SlugParam },
      responses: { 200: json(FollowState, 'Not following.'), ...problems(401, 404, 429) },
    }),
    async (c) => {
      const me = requireUser(c);
      const { database, limits } = c.var.deps;
      const { db } = database;
      await limits.take('follows and unfollows', [limits.follows, me.id]);
      const ch = await loadChannel(db, c.req.valid('param').slug);
      await db.delete(follow).where(and(eq(follow.userId, me.id), eq(follow.channelId, ch.id)));
      await c.var.deps.reads.invalidateChannel(ch.slug);
      return c.json(await state(c, ch.id), 200);
    },
  );

/** GET /api/channels/{slug}/followers — for the owner (and admins): who follows, newest first. */
export const followersApp = router().openapi(
  ...withChannel(
    createRoute({
      method: 'get',
      path: '/{slug}/followers',
      tags,
      summary: "A channel's followers, newest first (owner, admin)",
      request: { params: SlugParam, query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), offset: z.coerce.number().int().min(0).max(1_000_000).default(0) }) },
      responses: {
        200: json(z.object({ items: z.array(z.object({ id: z.string(), name: z.string(), followedAt: z.iso.datetime() })), total: z.number().int() }).openapi('FollowerPage'), 'Followers.'),
        ...problems(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { db } = c.var.deps.database;
      const ch = c.var.channel;
      requireRank(c, 'integrations');
      const q = c.req.valid('query');
      const [rows, [total]] = await Promise.all([
        db.select({ id: user.id, name: user.name, followedAt: follow.createdAt }).from(follow).innerJoin(user, eq(user.id, follow.userId)).where(eq(follow.channelId, ch.id)).orderBy(desc(follow.createdAt)).limit(q.limit).offset(q.offset),
        db.select({ n: count() }).from(follow).where(eq(follow.channelId, ch.id)),
      ]);
      return c.json({ items: rows.map((r) => ({ ...r, followedAt: r.followedAt.toISOString() })), total: total?.n ?? 0 }, 200);
    },
  ),
);

/** GET /api/me/following */
export const followingApp = router().openapi(
  createRoute({
    method: 'get',
    path: '/following',
    tags,
    summary: 'The channels you follow: live ones first (most viewers first), then the most recently followed',
    request: {
      query: z.object({
        limit: z.coerce.number().int().min(1).max(100).default(50),
        offset: z.coerce.number().int().min(0).max(100_000).default(0),
      }),
    },
    responses: {
      200: json(z.object({ items: z.array(FollowedChannel), total: z.number().int(), limit: z.number().int(), offset: z.number().int() }).openapi('FollowingPage'), 'A page of followed channels.'),
      ...problems(400, 401),
    },
  }),
  async (c) => {
    const me = requireUser(c);
    const { db } = c.var.deps.database;
    const q = c.req.valid('query');
    const [rows, [total]] = await Promise.all([
      selectChannels(db, { followedAt: follow.createdAt })
        .innerJoin(follow, and(eq(follow.channelId, channel.id), eq(follow.userId, me.id)))
        .orderBy(sql`${liveSession.id} is null`, desc(sql`coalesce(${liveSession.viewers}, 0)`), desc(follow.createdAt))
        .limit(q.limit)
        .offset(q.offset),
      db.select({ n: count() }).from(follow).where(eq(follow.userId, me.id)),
    ]);
    return c.json({ items: rows.map((r) => ({ ...serialize(r), followedAt: r.followedAt.toISOString() })), total: total?.n ?? 0, limit: q.limit, offset: q.offset }, 200);
  },
);
