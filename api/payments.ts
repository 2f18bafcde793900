// How subscriptions are paid for. Every provider ends in the same `subscription` rows, which are all entitlements
// look at. The built-in provider, `grant`, is a gift: the channel owner or an admin gives a user a tier from a start
// to an end date, no money involved. A card processor fits the same interface: its checkout answers with a URL to pay
// at (the subscription row is written when its own webhook confirms payment, keyed by provider_ref), and cancel
// tells the processor to stop billing.
import { and, eq } from 'drizzle-orm';
import { subscription, type Db } from '../shared/db/index.ts';

export type CheckoutRequest = { userId: string; channelId: string; tierId: string; startsAt?: Date | undefined; endsAt?: Date | null | undefined; by: string };
export type CheckoutResult = { status: 'active'; subscriptionId: string } | { status: 'redirect'; url: string };

export interface PaymentProvider {
  readonly name: string;
  /** Begins a subscription: active at once, or after the user pays at `url`. */
  checkout(req: CheckoutRequest): Promise<CheckoutResult>;
  /** Ends a subscription now (a processor stops billing; the row is marked canceled either way). */
  cancel(sub: { id: string; providerRef: string | null }): Promise<void>;
}

/** Gifts: active at once for the dates given (no end date: until canceled). */
export class GrantProvider implements PaymentProvider {
  readonly name = 'grant';
  constructor(private readonly db: Db) {}

  async checkout(req: CheckoutRequest): Promise<CheckoutResult> {
    const [row] = await this.db
      .insert(subscription)
      .values({ userId: req.userId, channelId: req.channelId, tierId: req.tierId, provider: this.name, startsAt: req.startsAt ?? new Date(), endsAt: req.endsAt ?? null, grantedBy: req.by })
      .returning({ id: subscription.id });
    return { status: 'active', subscriptionId: row!.id };
  }

  async cancel(sub: { id: string }): Promise<void> {
    await this.db.update(subscription).set({ canceledAt: new Date() }).where(and(eq(subscription.id, sub.id), eq(subscription.provider, this.name)));
  }
}
