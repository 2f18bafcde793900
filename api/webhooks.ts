// Outgoing webhooks: a channel's `channel.live`, `channel.offline` and `vod.ready` events POSTed to the URLs its
// owner registered, signed per the Standard Webhooks spec (webhook-id, webhook-timestamp and webhook-signature:
// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret's key bytes), so any Standard Webhooks library
// verifies them. Each event becomes one delivery row per webhook (its log) and one job per delivery (its queue):
// a failed delivery (network error, timeout, non-2xx) is retried with exponential backoff, then marked failed.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { and, arrayContains, eq, sql } from 'drizzle-orm';
import { channel, vod, webhook, webhookDelivery, type WebhookEvent } from '../shared/db/index.ts';
import type { Deps } from './context.ts';
import type { Jobs } from './jobs.ts';

export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: `whsec_` + base64 of 24 random bytes (the Standard Webhooks form). */
export const newSecret = () => SECRET_PREFIX + randomBytes(24).toString('base64');

/** The Standard Webhooks signature headers for one attempt at sending `body`. */
export function signatureHeaders(secret: string, id: string, body: string, now = new Date()): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}

/** Loopback, private, link-local, shared (CGNAT), multicast and unspecified addresses. */
const PRIVATE = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['224.0.0.0', 3]] as const) PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) PRIVATE.addSubnet(net, bits, 'ipv6');
const isPrivate = (address: string) => {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  return mapped ? PRIVATE.check(mapped, 'ipv4') : PRIVATE.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
};

/** A DNS lookup that refuses private addresses: checked on the address connected to, so DNS tricks do not get past. */
const publicOnly: LookupFunction = (hostname, options, callback) =>
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const bad = addresses.find((a) => isPrivate(a.address));
    if (bad) return callback(Object.assign(new Error(`refused: ${hostname} is a private address (${bad.address}); WEBHOOK_ALLOW_PRIVATE allows it`), { code: 'EPRIVATE' }), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });

/** POSTs one delivery; resolves with the receiver's status. */
function post(url: string, headers: Record<string, string>, body: string, timeoutMs: number, allowPrivate: boolean): Promise<number> {
  const u = new URL(url);
  // a literal IP address is not looked up: check it here
  const literal = u.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && isIP(literal) && isPrivate(literal)) return Promise.reject(new Error(`refused: ${literal} is a private address; WEBHOOK_ALLOW_PRIVATE allows it`));
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? https : http).request(
      u,
      { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs, ...(allowPrivate ? {} : { lookup: publicOnly }) },
      (res) => {
        res.resume(); // the answer's body is not kept
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The body every webhook of an event receives. */
export type WebhookPayload = { type: WebhookEvent; timestamp: string; data: Record<string, unknown> };

type EventJob = { event: WebhookEvent; channelId: string; data: Record<string, unknown> };

/** A delivery's id from its event and webhook: a fan-out run twice creates each delivery once. */
const deliveryId = (eventKey: string, webhookId: string) => {
  const h = createHash('sha256').update(`${eventKey}|${webhookId}`).digest('hex');
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
      const e = j.payload as EventJob;
      const hooks = await db
        .select({ id: webhook.id })
        .from(webhook)
        .where(and(eq(webhook.channelId, e.channelId), eq(webhook.active, true), arrayContains(webhook.events, [e.event])));
      const payload: WebhookPayload = { type: e.event, timestamp: j.createdAt.toISOString(), data: e.data };
      for (const h of hooks) {
        const id = deliveryId(j.key, h.id);
        await db.insert(webhookDelivery).values({ id, webhookId: h.id, event: e.event, payload }).onConflictDoNothing();
        await jobs.enqueue('webhook.deliver', `webhook.deliver:${id}`, { deliveryId: id });
      }
      return { done: true };
    },
  });

  jobs.define('webhook.deliver', {
    maxAttempts: cfg.maxAttempts,
    backoffMs: cfg.retryMs,
    run: async (j) => {
      const { deliveryId: id } = j.payload as { deliveryId: string };
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
        responseStatus = await post(d.url, { 'content-type': 'application/json', 'user-agent': 'Glint-Webhooks/1', ...signatureHeaders(d.secret, id, body) }, body, cfg.timeoutMs, cfg.allowPrivate);
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
      const { deliveryId: id } = j.payload as { deliveryId: string };
      await db.update(webhookDelivery).set({ status: 'failed' }).where(and(eq(webhookDelivery.id, id), eq(webhookDelivery.status, 'pending')));
    },
  });

  const enqueue = (event: WebhookEvent, key: string, channelId: string, data: () => Promise<Record<string, unknown> | null>) =>
    void (async () => {
      const [ch] = await db.select({ id: channel.id, slug: channel.slug, title: channel.title }).from(channel).where(eq(channel.id, channelId)).limit(1);
      const more = await data();
      if (!ch || !more) return;
      const payload: EventJob = { event, channelId, data: { channel: { ...ch, url: `${publicUrl}/c/${ch.slug}` }, ...more } };
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
