// The SFU's HTTP face: WHIP ingest (RFC 9725) and WHEP playback (the WHEP draft), with the caps that keep a stranger's
// offers bounded (WHEP offers and sessions per address, WHIP key guesses per address). The handlers validate and
// authorize; the SFU (SfuHttpHost) finds the rooms and takes broadcasts live.
import { timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { cors } from 'hono/cors';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Config } from '../shared/config.ts';
import { clientAddress } from '../shared/client-address.ts';
import type { Db } from '../shared/db/index.ts';
import { AppError, invalid, notFound, rateLimited, unavailable, unsupportedMedia } from '../shared/errors.ts';
import { ConcurrencyCap, RateLimit } from '../shared/limits.ts';
import { MAX_SDP_BYTES, readBoundedText } from '../shared/request-body.ts';
import type { Logger } from '../shared/logger.ts';
import { hashStreamKey, verifyStreamKey } from '../shared/stream-keys.ts';
import type { Room } from './Room.ts';
import { parseOffer } from './sdp.ts';

/** What the routes need of the SFU. */
export type SfuHttpHost = {
  config: Config;
  db: Db;
  log: Logger;
  /** Who may watch: throws (401/403 AppError) when the request's viewer may not play the channel. Everyone when unset. */
  admitViewer: ((request: Request, channelId: string) => Promise<void>) | undefined;
  /** Takes a WHIP broadcast live (or resumes it within the grace period) with `publish` attaching its publisher. */
  goLive<T extends { sessionId: string }>(key: { channelId: string; slug: string; keyId: string }, publish: (room: Room) => Promise<T>): Promise<T & { room: Room }>;
  /** The open room of the channel called `slug`, and whether such a channel exists; with `admit` (a viewer's offer) a
   * broadcast another node receives may be relayed here (edge pull), once `admit` let the viewer in. */
  resolve(slug: string, admit?: (channelId: string) => Promise<void>): Promise<{ room: Room | undefined; exists: boolean }>;
  /** The room holding a WHIP/WHEP resource named in a Location handed out under `slug`. */
  resourceRoom(slug: string, holds: (room: Room) => boolean): Promise<Room | undefined>;
  /** The URL streamers paste into OBS, when RTMP ingest is on. */
  rtmpUrl(): string | null;
};

/** A layer choice is a few dozen bytes of JSON. */
const MAX_LAYER_BYTES = 1024;
/** Layer reads and choices per address per minute: far more than a person picking qualities in a menu. */
const LAYER_REQUESTS_PER_MINUTE = 120;

/** POST /whep/…/layers: a spatial layer (and optionally a temporal one; the best when absent), or back to auto. */
const LayerChoiceSchema = z.union([
  z.strictObject({ auto: z.literal(true) }),
  z.strictObject({ spatialLayer: z.number().int().min(0).max(15), temporalLayer: z.number().int().min(0).max(15).optional() }),
]);
/** How long a viewer whose address holds its share of sessions waits: about when an unconnected one is dropped. */
const SESSIONS_RETRY_MS = 15_000;

/** The token of an `Authorization: Bearer <token>` header. */
const bearerOf = (c: Context) => /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];

/** Constant-time comparison of two hex digests. */
function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The WHIP/WHEP routes and GET /api/ingest, with this SFU's caps. */
export function sfuRoutes(host: SfuHttpHost): Hono {
  const caps = host.config.sfu;
  /** WHEP offers per address per minute */
  const whepOffers = new RateLimit({ name: 'whep-offers', points: caps.whepOffersPerMinute, seconds: 60 });
  /** WHEP sessions held per address, and by everyone on this SFU */
  const whepSessions = new ConcurrencyCap({ perKey: caps.whepSessionsPerAddress, total: caps.maxViewers });
  /** failed WHIP authorizations per address per minute (stream-key guessing) */
  const whipFailures = new RateLimit({ name: 'whip-auth-failures', points: caps.whipAuthFailuresPerMinute, seconds: 60 });
  /** layer reads and choices per address per minute */
  const layerRequests = new RateLimit({ name: 'whep-layers', points: LAYER_REQUESTS_PER_MINUTE, seconds: 60 });

  const sdpBody = async (c: Context): Promise<ReturnType<typeof parseOffer>> => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/sdp') throw unsupportedMedia(`Send the SDP offer as application/sdp, not "${type || 'nothing'}".`);
    return parseOffer(await readBoundedText(c.req.raw, MAX_SDP_BYTES, 'SDP offers'));
  };

  /** The client's address (X-Forwarded-For believed only from TRUSTED_PROXIES), for per-address caps. */
  const addressOf = (c: Context): string => {
    let peer: string | undefined;
    try {
      peer = getConnInfo(c).remote.address;
    } catch {
      peer = undefined; // not on a Node socket (app.request in a test)
    }
    return clientAddress(peer, c.req.header('x-forwarded-for'), host.config.trustedProxies);
  };

  /**
   * WHIP credentials are checked only while the address has failures left this minute (429 after): taking 0 points
   * reports whether the budget is already exceeded without spending any.
   */
  const checkGuesses = async (address: string): Promise<void> => {
    const left = await whipFailures.take(address, 0);
    if (!left.ok) throw rateLimited('Too many wrong stream keys from your address; wait before trying again.', left.retryAfterMs);
  };

  /** A wrong stream key: 401, or 429 once the address has used up its failures. */
  const refuseKey = async (c: Context, address: string, detail: string, counted: boolean): Promise<never> => {
    if (counted) {
      const left = await whipFailures.take(address);
      if (!left.ok) throw rateLimited('Too many wrong stream keys from your address; wait before trying again.', left.retryAfterMs);
    }
    c.header('WWW-Authenticate', 'Bearer realm="glint-whip"');
    throw new AppError('unauthorized', detail);
  };

  const app = new Hono();
  const whipWhepCors = cors({
    origin: '*',
    allowMethods: ['GET', 'POST', 'DELETE', 'PATCH', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'If-Match'],
    exposeHeaders: ['Location', 'Link', 'Accept-Patch', 'Retry-After'],
  });
  app.use('/whip/*', whipWhepCors);
  app.use('/whep/*', whipWhepCors);

  // The Location's last segment is the session's resource token (random, not the public live session id). A viewer's
  // answer links its layer selection (the WHEP draft's layer extension; our JSON, see /whep/…/layers below).
  const sdpReply = (c: Context, kind: 'whip' | 'whep', slug: string, resource: string, answer: string) => {
    const location = `/${kind}/${slug}/${resource}`;
    const headers: Record<string, string> = { 'Content-Type': 'application/sdp', Location: location };
    if (kind === 'whep') headers.Link = `<${location}/layers>; rel="urn:ietf:params:whep:ext:core:layer"`;
    return c.body(answer, 201, headers);
  };

  // WHIP ingest: the stream key is the bearer token.
  app.post('/whip/:slug', async (c) => {
    const slug = c.req.param('slug');
    const address = addressOf(c);
    await checkGuesses(address);
    const token = bearerOf(c);
    const key = token ? await verifyStreamKey(host.db, token) : null;
    if (!key || key.slug !== slug) {
      host.log.warn({ channel: slug, address, reason: token ? 'unknown, revoked or other-channel stream key' : 'no bearer token' }, 'WHIP publish refused');
      return refuseKey(c, address, token ? 'That stream key is not valid for this channel.' : 'Send the stream key as "Authorization: Bearer <key>".', !!token);
    }
    const offer = await sdpBody(c);
    const { resource, answer } = await host.goLive(key, (room) => room.publish(offer, hashStreamKey(token!)));
    return sdpReply(c, 'whip', slug, resource, answer);
  });

  /**
   * A WHIP session's resource: only its publisher may end it (RFC 9725 lets the server require the bearer token on
   * the resource too). Without a token → 401; a resource this channel does not have → 404; another token → 401.
   */
  const whipSession = async (c: Context) => {
    const address = addressOf(c);
    await checkGuesses(address);
    const token = bearerOf(c);
    if (!token) return refuseKey(c, address, 'Send the stream key that started this session as "Authorization: Bearer <key>".', false);
    const resource = c.req.param('resource')!;
    const room = await host.resourceRoom(c.req.param('slug')!, (r) => !!r.whipSession(resource));
    const session = room?.whipSession(resource);
    if (!room || !session) throw notFound('That WHIP session');
    if (!sameDigest(hashStreamKey(token), session.credential)) return refuseKey(c, address, 'That is not the stream key this session was started with.', true);
    return { room, sessionId: session.sessionId };
  };

  app.delete('/whip/:slug/:resource', async (c) => {
    const { room, sessionId } = await whipSession(c);
    room.endPublisher(sessionId, 'DELETE');
    return c.body(null, 200);
  });

  // What the SFU receives from this publisher, for the studio's health panel: only the session's own stream key reads it.
  app.get('/whip/:slug/:resource/stats', async (c) => {
    const { room } = await whipSession(c);
    return c.json({ streams: await room.producerStats() }, 200, { 'Cache-Control': 'no-store' });
  });

  // No trickle ICE or ICE restarts: the server is ICE-lite and its answer carries every candidate (RFC 9725 §4.3).
  app.patch('/whip/:slug/:resource', async (c) => {
    await whipSession(c);
    return c.body(null, 405, { Allow: 'DELETE, OPTIONS' });
  });
  app.patch('/whep/:slug/:resource', (c) => c.body(null, 405, { Allow: 'DELETE, OPTIONS' }));

  // WHEP playback: anonymous for public channels; subscriber-only ones admit whom admitViewer admits. Every offer
  // counts against its address's budget; a session against its address's and the channel's share.
  app.post('/whep/:slug', async (c) => {
    const slug = c.req.param('slug');
    const address = addressOf(c);
    const budget = await whepOffers.take(address);
    if (!budget.ok) throw rateLimited('Too many viewer requests from your address; wait a moment.', budget.retryAfterMs);
    const admit = async (channelId: string) => host.admitViewer?.(c.req.raw, channelId);
    const { room, exists } = await host.resolve(slug, admit);
    if (room) await host.admitViewer?.(c.req.raw, room.channelId); // who, before what they sent
    const offer = await sdpBody(c);
    if (!room) throw exists ? notFound(`A live broadcast on "${slug}" (the channel is offline)`) : notFound(`Channel "${slug}"`);
    const release = whepSessions.acquire(address);
    if (!release) {
      if (whepSessions.refusal(address) === 'total') throw unavailable('This server has as many viewers as it can take; try again shortly.', SESSIONS_RETRY_MS);
      throw rateLimited(`Your address already holds ${host.config.sfu.whepSessionsPerAddress} viewer sessions; end one first.`, SESSIONS_RETRY_MS);
    }
    try {
      const { resource, answer } = await room.view(offer, release);
      return sdpReply(c, 'whep', slug, resource, answer);
    } catch (err) {
      release();
      throw err;
    }
  });

  // A viewer's resource token is its own credential: anonymous viewers have no other, and no one else learns it.
  app.delete('/whep/:slug/:resource', async (c) => {
    const resource = c.req.param('resource');
    // leave() is false on a room without that viewer, so the first room it succeeds on is the viewer's
    if (!(await host.resourceRoom(c.req.param('slug'), (r) => r.leave(resource)))) throw notFound('That WHEP session');
    return c.body(null, 200);
  });

  /** Layer requests count against their address's budget. */
  const layerBudget = async (c: Context) => {
    const budget = await layerRequests.take(addressOf(c));
    if (!budget.ok) throw rateLimited('Too many quality changes from your address; wait a moment.', budget.retryAfterMs);
  };
  /** The room holding the WHEP session the request's :slug/:resource names. */
  const viewerRoom = (c: Context) => {
    const resource = c.req.param('resource')!;
    return host.resourceRoom(c.req.param('slug')!, (r) => r.hasViewer(resource)).then((room) => ({ resource, room }));
  };

  // A viewer's video layers (the quality menu): the resource token is the credential, as for its DELETE.
  app.get('/whep/:slug/:resource/layers', async (c) => {
    await layerBudget(c);
    const { resource, room } = await viewerRoom(c);
    const layers = await room?.viewerLayers(resource);
    if (!layers) throw notFound('That WHEP session');
    return c.json(layers, 200, { 'Cache-Control': 'no-store' });
  });

  // Choosing one: {"spatialLayer": 0, "temporalLayer"?: 0} or {"auto": true}; answers the layers as GET does.
  app.post('/whep/:slug/:resource/layers', async (c) => {
    await layerBudget(c);
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw unsupportedMedia(`Send the layer choice as application/json, not "${type || 'nothing'}".`);
    const text = await readBoundedText(c.req.raw, MAX_LAYER_BYTES, 'Layer choices');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw invalid('The body is not JSON: send {"spatialLayer": 0} or {"auto": true}.');
    }
    const parsed = LayerChoiceSchema.safeParse(body);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => ({ path: ['json', ...i.path.map(String)].join('.'), message: i.message }));
      throw invalid('Send {"spatialLayer": <0–15>, "temporalLayer"?: <0–15>} or {"auto": true}.', errors);
    }
    const { resource, room } = await viewerRoom(c);
    const layers = await room?.preferLayers(resource, parsed.data);
    if (!layers) throw notFound('That WHEP session');
    return c.json(layers, 200, { 'Cache-Control': 'no-store' });
  });

  // Where to send a broadcast: the studio shows these next to the stream key (public: no secret in it).
  app.get('/api/ingest', (c) =>
    c.json({ whip: `${host.config.publicUrl}/whip/{channel}`, rtmp: host.rtmpUrl() }, 200, { 'Cache-Control': 'no-store' }),
  );
  return app;
}
