// Outgoing webhooks: a channel's `channel.live`, `channel.offline` and `vod.ready` events POSTed to the URLs its
// owner registered, signed per the Standard Webhooks spec (webhook-id, webhook-timestamp and webhook-signature:
// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret's key bytes), so any Standard Webhooks library
// verifies them. Each event becomes one delivery row per webhook (its log) and one job per delivery (its queue):
// a failed delivery (network error, timeout, non-2xx) is retried with exponential backoff, then marked failed.
import { and, arrayContains, eq, sql } from 'drizzle-orm';
import { base64, fromBase64, hex, randomBytes } from '../shared/encoding.ts';
import { channel, vod, webhook, webhookDelivery, type WebhookEvent } from '../shared/db/index.ts';
import { postOnce, pinnedLookup } from '../shared/host/http-post.ts';
import { AddressRanges, canonicalIpv6, ipVersion } from '../shared/host/net.ts';
import type { Deps } from './context.ts';
import type { JobPayloads, Jobs } from '../shared/jobs.ts';

export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: `whsec_` + base64 of 24 random bytes (the Standard Webhooks form). */
export const newSecret = () => SECRET_PREFIX + base64(randomBytes(24));

const utf8 = new TextEncoder();

/** The Standard Webhooks signature headers for one attempt at sending `body`. */
export async function signatureHeaders(secret: string, id: string, body: string, now = new Date()): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const key = await crypto.subtle.importKey('raw', fromBase64(secret.slice(SECRET_PREFIX.length)), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const signature = base64(new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8.encode(`${id}.${timestamp}.${body}`))));
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}

/** Loopback, private, link-local, shared (CGNAT), benchmarking, IETF, multicast, reserved and unspecified addresses. */
const PRIVATE = new AddressRanges();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3]] as const) PRIVATE.add(net, bits, 'ipv4');
// ::/96 also covers the deprecated IPv4-compatible form (::127.0.0.1)
for (const [net, bits] of [['::', 96], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) PRIVATE.add(net, bits, 'ipv6');

/**
 * The IPv4 address inside an IPv4-mapped (`::ffff:127.0.0.1`, also written `::ffff:7f00:1`) or NAT64 (`64:ff9b::…`)
 * IPv6 address: a dual-stack socket connecting to one reaches that IPv4 host, so it is checked as that host.
 */
function embeddedV4(address: string): string | undefined {
  if (ipVersion(address) !== 6) return undefined;
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(canonicalIpv6(address));
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Whether an address is one a webhook must not reach unless WEBHOOK_ALLOW_PRIVATE. */
export function isPrivateAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '');
  return PRIVATE.has(embeddedV4(a) ?? a);
}

/** Largest response body read from a receiver: the status decides; the body is only drained, up to this much. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** The DNS lookup webhook deliveries connect through (shared/host/http-post.ts), refusing private addresses. */
export const webhookLookup = (opts: { timeoutMs: number; allowPrivate: boolean; servers?: string[] }) => pinnedLookup({ ...opts, isPrivate: isPrivateAddress });

/** POSTs one delivery; resolves with the receiver's status (redirects are not followed). */
function post(url: string, headers: Record<string, string>, body: string, opts: { timeoutMs: number; allowPrivate: boolean; signal?: AbortSignal }): Promise<number> {
  const u = new URL(url);
  // a literal IP address is not looked up: check it here
  const literal = u.hostname.replace(/^\[|\]$/g, '');
  if (!opts.allowPrivate && ipVersion(literal) && isPrivateAddress(literal)) return Promise.reject(new Error(`refused: ${literal} is a private address; WEBHOOK_ALLOW_PRIVATE allows it`));
  return postOnce(u, headers, body, { ...opts, isPrivate: isPrivateAddress, maxResponseBytes: MAX_RESPONSE_BYTES });
}

/** The body every webhook of an event receives. */
export type WebhookPayload = { type: WebhookEvent; timestamp: string; data: Record<string, unknown> };

/** A delivery's id from its event and webhook: a fan-out run twice creates each delivery once. */
const deliveryId = async (eventKey: string, webhookId: string) => {
  const h = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8.encode(`${eventKey}|${webhookId}`))));
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export function deliverWebhooks(deps: Deps, jobs: Jobs): () => void {
  const { db } = deps.database;
  const { webhooks: cfg, publicUrl } = deps.config;

  // one event → a delivery (and its job) for every active webhook of the channel that asked for it
  jobs.define('webhooks.event', {
    maxAttempts: 10,
    backoffMs: 1000,
    run: async (j) => {
      const e = j.payload;
      const hooks = await db
        .select({ id: webhook.id })
        .from(webhook)
        .where(and(eq(webhook.channelId, e.channelId), eq(webhook.active, true), arrayContains(webhook.events, [e.event])));
      const payload: WebhookPayload = { type: e.event, timestamp: j.createdAt.toISOString(), data: e.data };
      for (const h of hooks) {
        const id = await deliveryId(j.key, h.id);
        await db.insert(webhookDelivery).values({ id, webhookId: h.id, event: e.event, payload }).onConflictDoNothing();
        await jobs.enqueue('webhook.deliver', `webhook.deliver:${id}`, { deliveryId: id });
      }
      return { done: true };
    },
  });

  jobs.define('webhook.deliver', {
    maxAttempts: cfg.maxAttempts,
    backoffMs: cfg.retryMs,
    // the attempt's own deadline, plus the database writes around it; past it the runner frees the job's slot
    timeoutMs: cfg.timeoutMs + 30_000,
    run: async (j, signal) => {
      const { deliveryId: id } = j.payload;
      const [d] = await db
        .select({ payload: webhookDelivery.payload, status: webhookDelivery.status, url: webhook.url, secret: webhook.secret, active: webhook.active })
        .from(webhookDelivery)
        .innerJoin(webhook, eq(webhook.id, webhookDelivery.webhookId))
        .where(eq(webhookDelivery.id, id))
        .limit(1);
      if (!d || d.status !== 'pending') return { done: true }; // the webhook was deleted, or this was done already
      const body = JSON.stringify(d.payload);
      let responseStatus: number | null = null;
      let error: string | null = null;
      try {
        // redirects are not followed: a receiver answering 3xx has not taken the delivery
        responseStatus = await post(d.url, { 'content-type': 'application/json', 'user-agent': 'Glint-Webhooks/1', ...(await signatureHeaders(d.secret, id, body)) }, body, {
          timeoutMs: cfg.timeoutMs,
          allowPrivate: cfg.allowPrivate,
          signal,
        });
        if (responseStatus < 200 || responseStatus >= 300) error = `the receiver answered ${responseStatus}`;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      await db
        .update(webhookDelivery)
        .set({
          attempts: sql`${webhookDelivery.attempts} + 1`,
          responseStatus,
          lastError: error,
          ...(error ? {} : { status: 'delivered' as const, deliveredAt: new Date() }),
        })
        .where(eq(webhookDelivery.id, id));
      if (error) throw new Error(error);
      return { done: true };
    },
    gaveUp: async (j) => {
      const { deliveryId: id } = j.payload;
      await db.update(webhookDelivery).set({ status: 'failed' }).where(and(eq(webhookDelivery.id, id), eq(webhookDelivery.status, 'pending')));
    },
  });

  const enqueue = (event: WebhookEvent, key: string, channelId: string, data: () => Promise<Record<string, unknown> | null>) =>
    void (async () => {
      const [ch] = await db.select({ id: channel.id, slug: channel.slug, title: channel.title }).from(channel).where(eq(channel.id, channelId)).limit(1);
      const more = await data();
      if (!ch || !more) return;
      const payload: JobPayloads['webhooks.event'] = { event, channelId, data: { channel: { ...ch, url: `${publicUrl}/c/${ch.slug}` }, ...more } };
      await jobs.enqueue('webhooks.event', `webhooks:${event}:${key}`, payload);
    })().catch((err) => deps.log.error({ err, event }, 'could not enqueue a webhook event'));

  const offs = [
    deps.bus.subscribe('channel.live', (e) => enqueue('channel.live', e.sessionId, e.channelId, async () => ({ session: { id: e.sessionId, source: e.source, startedAt: e.startedAt } }))),
    deps.bus.subscribe('channel.offline', (e) =>
      enqueue('channel.offline', e.sessionId, e.channelId, async () => ({ session: { id: e.sessionId, reason: e.reason, peakViewers: e.peakViewers } })),
    ),
    deps.bus.subscribe('vod.ready', (e) =>
      enqueue('vod.ready', e.vodId, e.channelId, async () => {
        const [v] = await db.select({ title: vod.title, startedAt: vod.startedAt }).from(vod).where(eq(vod.id, e.vodId)).limit(1);
        return v ? { vod: { id: e.vodId, title: v.title, durationMs: e.durationMs, startedAt: v.startedAt.toISOString(), url: `${publicUrl}/vods/${e.vodId}` } } : null;
      }),
    ),
  ];
  return () => offs.forEach((off) => off());
}
