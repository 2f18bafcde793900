// The owner's side of subscriptions and webhooks, in the channel manager: who may watch (subscriber-only live and
// recordings), tiers, gifting a follower a subscription and cancelling one; webhooks with their last deliveries.
import { useEffect, useState } from 'preact/hooks';
import { api, WEBHOOK_EVENTS, type Channel, type Subscription, type Tier, type Webhook, type WebhookDelivery, type WebhookEvent } from '../api.ts';
import { formatDate, timeAgo } from '../format.ts';
import { TIER_LIMITS } from '../../../shared/bounds.ts';

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Runs an owner's action, then reloads; its error (if any) is shown until the next action. */
function useActions(reload: () => void) {
  const [error, setError] = useState('');
  const act = async (fn: () => Promise<unknown>) => {
    setError('');
    try {
      await fn();
      reload();
    } catch (err) {
      setError(message(err));
    }
  };
  return [act, error, setError] as const;
}

export function SubscriptionsManager({ channel, onChange }: { channel: Channel; onChange: (c: Channel) => void }) {
  const slug = channel.slug;
  const [tiers, setTiers] = useState<Tier[]>([]);
  const [subs, setSubs] = useState<Subscription[]>([]);
  const [followers, setFollowers] = useState<{ id: string; name: string }[]>([]);
  const [tier, setTier] = useState({ name: '', price: '4.99', currency: 'USD', perks: '' });
  const [grant, setGrant] = useState({ userId: '', tierId: '', until: '' });
  const reload = () => {
    api.tiers(slug).then(setTiers, (e) => setError(message(e)));
    api.subscriptions(slug).then(setSubs, (e) => setError(message(e)));
    api.followers(slug).then((f) => setFollowers(f.items), () => undefined);
  };
  const [act, error, setError] = useActions(reload);
  useEffect(reload, [slug]);
  const gate = (patch: { subscribersOnlyLive?: boolean; subscribersOnlyVods?: boolean }) => act(async () => onChange(await api.updateChannel(slug, patch)));

  return (
    <section class="subpanel" aria-labelledby={`subs-${slug}`} data-testid="subscriptions-manager">
      <h3 id={`subs-${slug}`}>Subscriptions</h3>
      <label class="check">
        <input type="checkbox" checked={channel.subscribersOnlyLive} onChange={(e) => gate({ subscribersOnlyLive: e.currentTarget.checked })} data-testid="gate-live" /> Live streams for subscribers only
      </label>
      <label class="check">
        <input type="checkbox" checked={channel.subscribersOnlyVods} onChange={(e) => gate({ subscribersOnlyVods: e.currentTarget.checked })} data-testid="gate-vods" /> New recordings for subscribers only
      </label>

      <h4>Tiers</h4>
      <ul class="plain-list">
        {tiers.map((t) => (
          <li key={t.id}>
            <strong>{t.name}</strong> · {(t.priceCents / 100).toFixed(2)} {t.currency}{' '}
            <button type="button" class="btn btn-ghost btn-sm" onClick={() => act(() => api.archiveTier(slug, t.id))}>
              Archive
            </button>
          </li>
        ))}
      </ul>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            await api.createTier(slug, { name: tier.name, priceCents: Math.round(Number(tier.price) * 100), currency: tier.currency, perks: tier.perks });
            setTier({ ...tier, name: '', perks: '' });
          });
        }}
      >
        <input aria-label="Tier name" placeholder="Tier name" value={tier.name} onInput={(e) => setTier({ ...tier, name: e.currentTarget.value })} required maxLength={TIER_LIMITS.name} />
        <input aria-label="Price per month" type="number" min="0" step="0.01" value={tier.price} onInput={(e) => setTier({ ...tier, price: e.currentTarget.value })} />
        <input aria-label="Currency" value={tier.currency} onInput={(e) => setTier({ ...tier, currency: e.currentTarget.value })} maxLength={3} size={3} />
        <input aria-label="Perks" placeholder="Perks" value={tier.perks} onInput={(e) => setTier({ ...tier, perks: e.currentTarget.value })} maxLength={TIER_LIMITS.perks} />
        <button class="btn btn-secondary btn-sm">Add tier</button>
      </form>

      <h4>Give a subscription</h4>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => api.grant(slug, { userId: grant.userId, tierId: grant.tierId, endsAt: grant.until ? new Date(`${grant.until}T23:59:59`).toISOString() : null }));
        }}
      >
        <select aria-label="Follower" value={grant.userId} onChange={(e) => setGrant({ ...grant, userId: e.currentTarget.value })} required>
          <option value="">Follower…</option>
          {followers.map((f) => (
            <option key={f.id} value={f.id}>
              {f.name}
            </option>
          ))}
        </select>
        <select aria-label="Tier" value={grant.tierId} onChange={(e) => setGrant({ ...grant, tierId: e.currentTarget.value })} required>
          <option value="">Tier…</option>
          {tiers.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
        <input aria-label="Until (empty: until canceled)" type="date" value={grant.until} onInput={(e) => setGrant({ ...grant, until: e.currentTarget.value })} />
        <button class="btn btn-secondary btn-sm">Give</button>
      </form>
      <ul class="plain-list" data-testid="subscriber-list">
        {subs.map((s) => (
          <li key={s.id} class={s.active ? '' : 'muted'}>
            {s.user.name} · {s.tier.name} · {s.active ? (s.endsAt ? `until ${formatDate(s.endsAt)}` : 'until canceled') : s.canceledAt ? 'canceled' : 'not active'}
            {s.active && (
              <button type="button" class="btn btn-ghost btn-sm" onClick={() => act(() => api.cancelSubscription(slug, s.id))}>
                Cancel
              </button>
            )}
          </li>
        ))}
      </ul>
      {error && (
        <p class="error small" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

export function WebhooksManager({ slug }: { slug: string }) {
  const [hooks, setHooks] = useState<Webhook[]>([]);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<WebhookEvent[]>([...WEBHOOK_EVENTS]);
  const [secret, setSecret] = useState('');
  const [log, setLog] = useState<{ id: string; items: WebhookDelivery[] } | null>(null);
  const reload = () => void api.webhooks(slug).then(setHooks, (e) => setError(message(e)));
  const [act, error, setError] = useActions(reload);
  useEffect(reload, [slug]);

  return (
    <section class="subpanel" aria-labelledby={`hooks-${slug}`} data-testid="webhooks-manager">
      <h3 id={`hooks-${slug}`}>Webhooks</h3>
      <p class="muted small">
        Glint POSTs <code>channel.live</code>, <code>channel.offline</code> and <code>vod.ready</code> as JSON, signed per Standard Webhooks (headers <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>), and retries failures with backoff.
      </p>
      {secret && (
        <p class="key-reveal" role="status" data-testid="webhook-secret">
          Signing secret (shown once): <code>{secret}</code>{' '}
          <button type="button" class="btn btn-ghost btn-sm" onClick={() => setSecret('')}>
            Done
          </button>
        </p>
      )}
      <ul class="plain-list">
        {hooks.map((h) => (
          <li key={h.id}>
            <code>{h.url}</code> · {h.events.join(', ')} {h.active ? '' : '(paused)'}
            <button type="button" class="btn btn-ghost btn-sm" onClick={() => act(() => api.updateWebhook(slug, h.id, { active: !h.active }))}>
              {h.active ? 'Pause' : 'Resume'}
            </button>
            <button type="button" class="btn btn-ghost btn-sm" onClick={() => act(async () => setLog({ id: h.id, items: await api.deliveries(slug, h.id) }))}>
              Deliveries
            </button>
            <button type="button" class="btn btn-ghost btn-sm" onClick={() => act(() => api.deleteWebhook(slug, h.id))}>
              Remove
            </button>
            {log?.id === h.id && (
              <ul class="plain-list small" data-testid="webhook-deliveries">
                {log.items.length === 0 && <li class="muted">No deliveries yet.</li>}
                {log.items.map((d) => (
                  <li key={d.id}>
                    {d.event} · {d.status} · {d.attempts} attempt{d.attempts === 1 ? '' : 's'}
                    {d.responseStatus ? ` · HTTP ${d.responseStatus}` : ''}
                    {d.lastError ? ` · ${d.lastError}` : ''} · {timeAgo(d.createdAt)}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            setSecret((await api.createWebhook(slug, { url: url.trim(), events })).secret);
            setUrl('');
          });
        }}
      >
        <input aria-label="Webhook URL" type="url" placeholder="https://example.com/glint" value={url} onInput={(e) => setUrl(e.currentTarget.value)} required data-testid="webhook-url" />
        {WEBHOOK_EVENTS.map((ev) => (
          <label key={ev} class="check">
            <input type="checkbox" checked={events.includes(ev)} onChange={(e) => setEvents(e.currentTarget.checked ? [...events, ev] : events.filter((x) => x !== ev))} /> {ev}
          </label>
        ))}
        <button class="btn btn-secondary btn-sm" data-testid="webhook-add">
          Add webhook
        </button>
      </form>
      {error && (
        <p class="error small" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
