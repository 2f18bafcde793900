// A channel's subscription tiers and the viewer's own subscription. Subscriptions are granted by the channel's owner
// (Glint's built-in provider); a card processor would add a "Subscribe" checkout here.
import { useEffect, useState } from 'preact/hooks';
import { api, type Channel, type Subscription, type Tier, type User } from '../api.ts';
import { formatDate } from '../format.ts';

const price = (t: Tier) => new Intl.NumberFormat(undefined, { style: 'currency', currency: t.currency }).format(t.priceCents / 100);

export function SubscribeBox({ channel, user }: { channel: Channel; user: User | null }) {
  const [tiers, setTiers] = useState<Tier[]>([]);
  const [mine, setMine] = useState<Subscription | null>(null);

  useEffect(() => {
    const ctl = new AbortController();
    api.tiers(channel.slug, ctl.signal).then(setTiers, () => undefined);
    if (user) api.mySubscription(channel.slug, ctl.signal).then((r) => setMine(r.subscription), () => undefined);
    return () => ctl.abort();
  }, [channel.slug, user?.id]);

  const gated = [channel.subscribersOnlyLive && 'live streams', channel.subscribersOnlyVods && 'recordings'].filter(Boolean);
  if (!tiers.length && !gated.length) return null;
  return (
    <section class="panel subscribe" aria-labelledby="subscribe-heading" data-testid="subscribe-box">
      <h2 id="subscribe-heading">Subscriptions</h2>
      {gated.length > 0 && <p class="muted small">This channel's {gated.join(' and ')} are for subscribers.</p>}
      {mine ? (
        <p data-testid="my-subscription">
          You subscribe at <strong>{mine.tier.name}</strong>
          {mine.endsAt ? ` until ${formatDate(mine.endsAt)}` : ''}.
        </p>
      ) : (
        user && <p class="muted small">Subscriptions are given by the channel's owner.</p>
      )}
      <ul class="tiers">
        {tiers.map((t) => (
          <li key={t.id} class={mine?.tier.id === t.id ? 'tier current' : 'tier'} data-testid="tier">
            <strong>{t.name}</strong> <span class="muted">{price(t)} / month</span>
            {t.perks && <p class="small">{t.perks}</p>}
          </li>
        ))}
      </ul>
    </section>
  );
}
