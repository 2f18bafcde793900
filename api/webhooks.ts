// Outgoing webhooks: a channel's `channel.live`, `channel.offline` and `vod.ready` events POSTed to the URLs its
// owner registered, signed per the Standard Webhooks spec (webhook-id, webhook-timestamp and webhook-signature:
// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret's key bytes), so any Standard Webhooks library
// verifies them. Each event becomes one delivery row per webhook (its log) and one job per delivery (its queue):
// a failed delivery (network error, timeout, non-2xx) is retried with exponential backoff, then marked failed.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, SocketAddress, type LookupFunction } from 'node:net';
import { and, arrayContains, eq, sql } from 'drizzle-orm';
import { channel, vod, webhook, webhookDelivery, type WebhookEvent } from '../shared/db/index.ts';
import type { Deps } from './context.ts';
import type { JobPayloads, Jobs } from './jobs.ts';

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

/** Loopback, private, link-local, shared (CGNAT), benchmarking, IETF, multicast, reserved and unspecified addresses. */
const PRIVATE = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3]] as const) PRIVATE.addSubnet(net, bits, 'ipv4');
// ::/96 also covers the deprecated IPv4-compatible form (::127.0.0.1)
for (const [net, bits] of [['::', 96], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) PRIVATE.addSubnet(net, bits, 'ipv6');

/**
 * The IPv4 address inside an IPv4-mapped (`::ffff:127.0.0.1`, also written `::ffff:7f00:1`) or NAT64 (`64:ff9b::…`)
 * IPv6 address: a dual-stack socket connecting to one reaches that IPv4 host, so it is checked as that host.
 */
function embeddedV4(address: string): string | undefined {
  if (isIP(address) !== 6) return undefined;
  const socket = new SocketAddress({ address, family: 'ipv6' });
  const hex = socket.address.toLowerCase();
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(hex);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Whether an address is one a webhook must not reach unless WEBHOOK_ALLOW_PRIVATE. */
export function isPrivateAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '');
  const v4 = embeddedV4(a);
  if (v4) return PRIVATE.check(v4, 'ipv4');
  const family = isIP(a);
  return family !== 0 && PRIVATE.check(a, family === 6 ? 'ipv6' : 'ipv4');
}

/** `localhost` and its subdomains are loopback by definition (RFC 6761), whatever a name server says. */
const isLocalhostName = (host: string) => /(^|\.)localhost\.?$/i.test(host);

/** Largest response body read from a receiver: the status decides; the body is only drained, up to this much. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * The DNS lookup for webhook hosts: direct queries (c-ares) with a timeout. The system resolver (getaddrinfo) has
 * none and holds one of libuv's four threadpool threads while it waits, so a channel owner's slow name server would
 * stall the whole process's file and crypto work; a name is a stranger's input like any other. Private addresses are
 * refused (unless allowed) on the addresses actually connected to, so DNS tricks (rebinding) do not get past.
 * `servers` is for tests (a name server that never answers).
 */
export function webhookLookup(opts: { timeoutMs: number; allowPrivate: boolean; servers?: string[] }): LookupFunction {
  return (hostname, options, callback) => {
    const answer = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    };
    const refused = (address: string) =>
      Object.assign(new Error(`refused: ${hostname} is a private address (${address}); WEBHOOK_ALLOW_PRIVATE allows it`), { code: 'EPRIVATE' });
    if (isLocalhostName(hostname)) {
      if (!opts.allowPrivate) return answer(refused('loopback'), []);
      return answer(null, [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]);
    }
    const resolver = new Resolver({ timeout: opts.timeoutMs, tries: 1 });
    if (opts.servers) resolver.setServers(opts.servers);
    const want = options.family === 4 ? [4] : options.family === 6 ? [6] : [4, 6];
    void Promise.allSettled(want.map((f) => (f === 4 ? resolver.resolve4(hostname) : resolver.resolve6(hostname)).then((list) => list.map((address) => ({ address, family: f }))))).then((results) => {
      const addresses = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      if (!addresses.length) {
        const err = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined)?.reason as NodeJS.ErrnoException | undefined;
        return answer(Object.assign(new Error(`could not look up ${hostname}: ${err?.code ?? 'no addresses'}`), { code: err?.code ?? 'ENOTFOUND' }), []);
      }
      const bad = opts.allowPrivate ? undefined : addresses.find((a) => isPrivateAddress(a.address));
      if (bad) return answer(refused(bad.address), []);
      answer(null, addresses);
    });
  };
}

/**
 * POSTs one delivery; resolves with the receiver's status. One deadline covers all of it — the lookup, connecting,
 * the answer's headers and reading its body — so a receiver that trickles its answer a byte at a time cannot hold
 * the delivery (an idle timeout never fires on it). Redirects are not followed.
 */
function post(url: string, headers: Record<string, string>, body: string, opts: { timeoutMs: number; allowPrivate: boolean; signal?: AbortSignal }): Promise<number> {
  const u = new URL(url);
  // a literal IP address is not looked up: check it here
  const literal = u.hostname.replace(/^\[|\]$/g, '');
  if (!opts.allowPrivate && isIP(literal) && isPrivateAddress(literal)) return Promise.reject(new Error(`refused: ${literal} is a private address; WEBHOOK_ALLOW_PRIVATE allows it`));
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([deadline, opts.signal]) : deadline;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err: Error | null, status?: number) => {
      if (settled) return;
      settled = true;
      req.destroy(); // whatever is left of the answer is not read
      if (err) reject(deadline.aborted ? new Error(`no complete answer within ${opts.timeoutMs} ms`) : err);
      else resolve(status!);
    };
    const req = (u.protocol === 'https:' ? https : http).request(
      u,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        signal,
        agent: false,
        lookup: webhookLookup({ timeoutMs: opts.timeoutMs, allowPrivate: opts.allowPrivate }),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          // the status is the answer; a receiver sending more than this is not listened to any further
          if (read > MAX_RESPONSE_BYTES) settle(null, status);
        });
        res.on('end', () => settle(null, status));
        res.on('error', (err) => settle(err));
        res.on('close', () => settle(new Error('the receiver closed the connection before the end of its answer')));
      },
    );
    req.on('error', (err) => settle(err));
    req.end(body);
  });
}

/** The body every webhook of an event receives. */
export type WebhookPayload = { type: WebhookEvent; timestamp: string; data: Record<string, unknown> };

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
      const e = j.payload;
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
        responseStatus = await post(d.url, { 'content-type': 'application/json', 'user-agent': 'Glint-Webhooks/1', ...signatureHeaders(d.secret, id, body) }, body, {
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
