// Subscriptions: a channel's tiers (public list; the owner or an admin creates, edits, archives), grants (the built-in
// payment provider: the owner or an admin gives a user a tier from a start to an end date), cancellation (by the
// subscriber or the owner), the channel's subscriber list and a user's own subscriptions.
import { createRoute } from '@hono/zod-openapi';
import { and, asc, count, desc, eq, isNull } from 'drizzle-orm';
import { channel, subscription, subscriptionTier, user } from '../../shared/db/index.ts';
import { conflict, invalid, notFound } from '../../shared/errors.ts';
import { INVISIBLE_MESSAGE, isVisibleLine, isVisibleText, TIER_LIMITS } from '../../shared/rules.ts';
import { requireUser } from '../access.ts';
import { requireRank, withChannel } from '../channel-context.ts';
import { activeSubscription } from '../entitlements.ts';
import { instant, json, problems, router, z } from '../openapi.ts';
import { GrantProvider } from '../payments.ts';

const TierSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    priceCents: z.number().int().openapi({ description: 'Per month, in the minor unit of currency' }),
    currency: z.string(),
    perks: z.string(),
    archived: z.boolean(),
  })
  .openapi('SubscriptionTier');
const TierFields = {
  name: z.string().trim().min(1).max(TIER_LIMITS.name).refine(isVisibleLine, INVISIBLE_MESSAGE),
  priceCents: z.number().int().min(0).max(100_000_00),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'an ISO 4217 code such as USD')
    .transform((c) => c.toUpperCase()),
  perks: z.string().max(TIER_LIMITS.perks).refine(isVisibleText, INVISIBLE_MESSAGE),
};

/** Tiers on offer per channel (archived ones do not count): a storefront, not a table to fill. */
export const MAX_TIERS_PER_CHANNEL = 20;
const CreateTier = z.object({ ...TierFields, currency: TierFields.currency.default('USD'), perks: TierFields.perks.default('') }).strict().openapi('CreateSubscriptionTier');
const UpdateTier = z
  .object({ name: TierFields.name.optional(), perks: TierFields.perks.optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'send at least one field to change (the price of a tier is fixed; make a new one)')
  .openapi('UpdateSubscriptionTier');

const SubscriptionSchema = z
  .object({
    id: z.uuid(),
    channel: z.object({ slug: z.string(), title: z.string() }),
    user: z.object({ id: z.string(), name: z.string() }),
    tier: z.object({ id: z.uuid(), name: z.string() }),
    provider: z.string(),
    startsAt: z.iso.datetime(),
    endsAt: z.iso.datetime().nullable(),
    canceledAt: z.iso.datetime().nullable(),
    active: z.boolean().openapi({ description: 'Entitles now: started, not ended, not canceled' }),
  })
  .openapi('Subscription');
const Grant = z
  .object({
    userId: z.string().min(1).max(64),
    tierId: z.uuid('not a tier id'),
    startsAt: instant().optional(),
    endsAt: instant({ description: 'null or absent: until canceled' }).nullable().optional(),
  })
  .strict()
  .openapi('GrantSubscription');

const SlugParam = z.object({ slug: z.string().max(64) });
const TierParams = SlugParam.extend({ id: z.uuid('not a tier id') });
const SubParams = SlugParam.extend({ id: z.uuid('not a subscription id') });
const tags = ['subscriptions'];

type TierRow = typeof subscriptionTier.$inferSelect;
const tierView = (t: TierRow) => ({ id: t.id, name: t.name, priceCents: t.priceCents, currency: t.currency, perks: t.perks, archived: t.archivedAt !== null });

const subColumns = {
  sub: subscription,
  slug: channel.slug,
  title: channel.title,
  userName: user.name,
  tierName: subscriptionTier.name,
};
type SubRow = { sub: typeof subscription.$inferSelect; slug: string; title: string; userName: string; tierName: string };
function subView(r: SubRow, now = new Date()): z.infer<typeof SubscriptionSchema> {
  const s = r.sub;
  return {
    id: s.id,
    channel: { slug: r.slug, title: r.title },
    user: { id: s.userId, name: r.userName },
    tier: { id: s.tierId, name: r.tierName },
    provider: s.provider,
    startsAt: s.startsAt.toISOString(),
    endsAt: s.endsAt?.toISOString() ?? null,
    canceledAt: s.canceledAt?.toISOString() ?? null,
    active: !s.canceledAt && s.startsAt <= now && (!s.endsAt || s.endsAt > now),
  };
}
const selectSubs = (db: Parameters<typeof activeSubscription>[0]) =>
  db
    .select(subColumns)
    .from(subscription)
    .innerJoin(channel, eq(channel.id, subscription.channelId))
    .innerJoin(user, eq(user.id, subscription.userId))
    .innerJoin(subscriptionTier, eq(subscriptionTier.id, subscription.tierId));

/** The payment providers on offer (a card processor would join here). */
const providers = (db: Parameters<typeof activeSubscription>[0]) => ({ grant: new GrantProvider(db) });

export const subscriptionsApp = router()
  .openapi(
    ...withChannel(
      createRoute({
        method: 'get',
        path: '/{slug}/tiers',
        tags,
        summary: "A channel's subscription tiers (archived ones left out)",
        request: { params: SlugParam },
        responses: { 200: json(z.array(TierSchema), 'Cheapest first.'), ...problems(404) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const ch = c.var.channel;
        const rows = await db.select().from(subscriptionTier).where(and(eq(subscriptionTier.channelId, ch.id), isNull(subscriptionTier.archivedAt))).orderBy(asc(subscriptionTier.priceCents));
        return c.json(rows.map(tierView), 200);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'post',
        path: '/{slug}/tiers',
        tags,
        summary: 'Add a subscription tier (owner, admin)',
        request: { params: SlugParam, body: { required: true, content: { 'application/json': { schema: CreateTier } } } },
        responses: { 201: json(TierSchema, 'Added.'), ...problems(400, 401, 403, 404, 409, 415) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const ch = c.var.channel;
        requireRank(c, 'integrations');
        const row = await db.transaction(async (tx) => {
          // the channel's row lock makes count-then-insert one step (as for stream keys)
          await tx.select({ id: channel.id }).from(channel).where(eq(channel.id, ch.id)).for('update');
          const [offered] = await tx.select({ n: count() }).from(subscriptionTier).where(and(eq(subscriptionTier.channelId, ch.id), isNull(subscriptionTier.archivedAt)));
          if ((offered?.n ?? 0) >= MAX_TIERS_PER_CHANNEL) throw conflict(`A channel can offer at most ${MAX_TIERS_PER_CHANNEL} tiers; archive one first.`);
          const [created] = await tx.insert(subscriptionTier).values({ channelId: ch.id, ...c.req.valid('json') }).returning();
          return created!;
        });
        return c.json(tierView(row), 201);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'patch',
        path: '/{slug}/tiers/{id}',
        tags,
        summary: "Rename a tier or change its perks (owner, admin); its price is fixed",
        request: { params: TierParams, body: { required: true, content: { 'application/json': { schema: UpdateTier } } } },
        responses: { 200: json(TierSchema, 'Changed.'), ...problems(400, 401, 403, 404, 415) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const { slug, id } = c.req.valid('param');
        const ch = c.var.channel;
        requireRank(c, 'integrations');
        const [row] = await db.update(subscriptionTier).set(c.req.valid('json')).where(and(eq(subscriptionTier.id, id), eq(subscriptionTier.channelId, ch.id))).returning();
        if (!row) throw notFound('That tier');
        return c.json(tierView(row), 200);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'delete',
        path: '/{slug}/tiers/{id}',
        tags,
        summary: 'Archive a tier: no new subscriptions; existing ones run on (owner, admin)',
        request: { params: TierParams },
        responses: { 204: { description: 'Archived.' }, ...problems(401, 403, 404) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const { slug, id } = c.req.valid('param');
        const ch = c.var.channel;
        requireRank(c, 'integrations');
        const [row] = await db.update(subscriptionTier).set({ archivedAt: new Date() }).where(and(eq(subscriptionTier.id, id), eq(subscriptionTier.channelId, ch.id))).returning();
        if (!row) throw notFound('That tier');
        return c.body(null, 204);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'get',
        path: '/{slug}/subscriptions',
        tags,
        summary: "A channel's subscriptions, newest first (owner, admin)",
        request: { params: SlugParam },
        responses: { 200: json(z.array(SubscriptionSchema), 'Subscriptions, active and past.'), ...problems(401, 403, 404) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const ch = c.var.channel;
        requireRank(c, 'integrations');
        const rows = await selectSubs(db).where(eq(subscription.channelId, ch.id)).orderBy(desc(subscription.createdAt)).limit(500);
        return c.json(rows.map((r) => subView(r)), 200);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'post',
        path: '/{slug}/subscriptions',
        tags,
        summary: 'Grant a user a subscription (the built-in "grant" provider: a gift; owner, admin)',
        request: { params: SlugParam, body: { required: true, content: { 'application/json': { schema: Grant } } } },
        responses: { 201: json(SubscriptionSchema, 'Granted.'), ...problems(400, 401, 403, 404, 415) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const ch = c.var.channel;
        const me = requireRank(c, 'integrations');
        const body = c.req.valid('json');
        const [tier] = await db.select().from(subscriptionTier).where(and(eq(subscriptionTier.id, body.tierId), eq(subscriptionTier.channelId, ch.id))).limit(1);
        if (!tier) throw notFound('That tier (of this channel)');
        if (tier.archivedAt) throw invalid('That tier is archived; it takes no new subscriptions.', [{ path: 'json.tierId', message: 'archived tier' }]);
        const [target] = await db.select({ id: user.id }).from(user).where(eq(user.id, body.userId)).limit(1);
        if (!target) throw notFound('That user');
        const startsAt = body.startsAt ?? new Date();
        const endsAt = body.endsAt ?? null;
        if (endsAt && endsAt <= startsAt) throw invalid('endsAt must be after startsAt.', [{ path: 'json.endsAt', message: 'not after startsAt' }]);
        const result = await providers(db).grant.checkout({ userId: target.id, channelId: ch.id, tierId: tier.id, startsAt, endsAt, by: me.id });
        if (result.status !== 'active') throw new Error('a grant is active at once');
        const [row] = await selectSubs(db).where(eq(subscription.id, result.subscriptionId));
        return c.json(subView(row!), 201);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'delete',
        path: '/{slug}/subscriptions/{id}',
        tags,
        summary: 'Cancel a subscription now (the subscriber, or the channel owner or an admin)',
        request: { params: SubParams },
        responses: { 200: json(SubscriptionSchema, 'Canceled.'), ...problems(401, 403, 404) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const { slug, id } = c.req.valid('param');
        const ch = c.var.channel;
        const me = requireUser(c);
        const [row] = await selectSubs(db).where(and(eq(subscription.id, id), eq(subscription.channelId, ch.id)));
        if (!row) throw notFound('That subscription');
        if (row.sub.userId !== me.id) requireRank(c, 'integrations');
        const provider = providers(db)[row.sub.provider as 'grant'];
        if (provider) await provider.cancel(row.sub);
        const [after] = await selectSubs(db).where(eq(subscription.id, id));
        return c.json(subView(after!), 200);
      },
    ),
  )
  .openapi(
    ...withChannel(
      createRoute({
        method: 'get',
        path: '/{slug}/subscription',
        tags,
        summary: 'Your subscription to a channel, if one counts now',
        request: { params: SlugParam },
        responses: { 200: json(z.object({ subscribed: z.boolean(), subscription: z.union([SubscriptionSchema, z.null()]) }), 'Your state.'), ...problems(404) },
      }),
      async (c) => {
        const { db } = c.var.deps.database;
        const ch = c.var.channel;
        const me = c.var.user;
        const active = me ? await activeSubscription(db, me.id, ch.id) : null;
        if (!active) return c.json({ subscribed: false, subscription: null }, 200);
        const [row] = await selectSubs(db).where(eq(subscription.id, active.id));
        return c.json({ subscribed: true, subscription: subView(row!) }, 200);
      },
    ),
  );

/** GET /api/me/subscriptions */
export const mySubscriptionsApp = router().openapi(
  createRoute({
    method: 'get',
    path: '/subscriptions',
    tags,
    summary: 'Your subscriptions, newest first (past ones included)',
    responses: { 200: json(z.array(SubscriptionSchema), 'Your subscriptions.'), ...problems(401) },
  }),
  async (c) => {
    const me = requireUser(c);
    const rows = await selectSubs(c.var.deps.database.db).where(eq(subscription.userId, me.id)).orderBy(desc(subscription.createdAt)).limit(200);
    return c.json(rows.map((r) => subView(r)), 200);
  },
);
