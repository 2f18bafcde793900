// The media plane's HTTP when the SFU runs as its own Node service: WHIP, WHEP and GET /api/ingest are forwarded
// there, so a browser keeps one origin whatever runs the API (Node, or Deno, which cannot host mediasoup). With
// SFU_URL that is one node; with SFU_DISCOVERY=redis it is whichever registered node the request belongs to (routing
// below; sfu/README.md, "Many nodes", says why this proxies rather than redirects). Behind Caddy these routes can go
// to a single SFU directly; this is for everything that reaches the API first.
// Portable: fetch and web streams only.
import { Hono, type Context } from 'hono';
import { problemForStatus, problemHeaders } from '../shared/errors.ts';
import { MAX_SDP_BYTES, readBounded } from '../shared/request-body.ts';
import { leastLoaded, originOf, viewerNode, type SfuNodes, type SfuNodeState } from '../shared/sfu-nodes.ts';
import type { AppEnv } from './context.ts';

/** What a WHIP/WHEP client sends that the SFU reads (credentials, the offer, ICE restarts, CORS preflights). */
const REQUEST_HEADERS = ['authorization', 'content-type', 'content-length', 'if-match', 'cookie', 'origin', 'access-control-request-method', 'access-control-request-headers'];
/** Seconds a client is told to wait while the SFU service cannot be reached. */
const RETRY_SECONDS = 5;
/** The SFU answers an offer in well under a second; past this the service is treated as down. */
const ANSWER_TIMEOUT_MS = 15_000;

function problem(c: Context, status: 404 | 503, detail: string) {
  return c.body(JSON.stringify(problemForStatus(status, detail, c.req.path)), status, problemHeaders(status === 503 ? RETRY_SECONDS : undefined));
}

/** Hop-by-hop headers: the upstream connection's, not the answer's (RFC 9110 §7.6.1). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade'];

/** An upstream's answer passed on to the client, without its connection's own headers. */
export function relayed(answer: Response): Response {
  const headers = new Headers(answer.headers);
  for (const name of HOP_BY_HOP) headers.delete(name);
  return new Response(answer.body, { status: answer.status, headers });
}

/** A WHIP/WHEP offer (a new session) and a session's resource (PATCH, DELETE, its stats or layers). */
const OFFER = /^\/(whip|whep)\/([^/]+)$/;
const RESOURCE = /^\/(whip|whep)\/([^/]+)\/([^/]+)(\/.*)?$/;

/** Where one request goes: a node and the path it has there; or why it goes nowhere. */
export type Route = { node: SfuNodeState; path: string } | { status: 404 | 503; detail: string };

const NO_NODE = 'No live media server is available right now; try again shortly.';

/**
 * Routing among registered nodes. A WHIP offer goes to the node already holding the channel (its publisher coming
 * back within the grace period) unless it drains, else to the least loaded node that is not draining: that node
 * becomes the channel's origin. A WHEP offer goes, with `edgePull`, to the least loaded node not draining (the origin
 * among equals; another pulls the broadcast from the origin, sfu/cluster/EdgePull.ts; a draining origin only when
 * every node drains), else to the origin; for a channel live
 * nowhere, to any node, which answers as the SFU does for an offline channel. A session's resource path carries the node that made
 * it (`<node>.<token>`, written into the Location by `named`), so its PATCH and DELETE reach that node.
 */
export function route(nodes: SfuNodeState[], method: string, path: string, edgePull = false): Route {
  const any = leastLoaded(nodes) ?? nodes[0];
  const offer = OFFER.exec(path);
  if (offer) {
    const slug = offer[2]!; // slugs are [a-z0-9-]: the raw path segment is the slug, or matches none
    const origin = originOf(nodes, slug);
    const post = method === 'POST';
    const viewer = offer[1] === 'whep' && post && edgePull && origin ? viewerNode(nodes, origin) : undefined;
    // a draining origin takes no new publisher: one coming back goes to a node that stays (its broadcast there ended
    // when it dropped, SfuNode.drain)
    const publisher = offer[1] === 'whip' && post;
    const node = publisher ? (origin && !origin.draining ? origin : (leastLoaded(nodes) ?? origin)) : (viewer ?? origin ?? any);
    return node ? { node, path } : { status: 503, detail: NO_NODE };
  }
  const resource = RESOURCE.exec(path);
  if (resource) {
    const [, kind, slug, named, rest = ''] = resource;
    const dot = named!.indexOf('.');
    const node = dot > 0 ? nodes.find((n) => n.id === named!.slice(0, dot)) : undefined;
    if (!node) return { status: 404, detail: 'That session was not found: it ended, or the media server holding it stopped.' };
    return { node, path: `/${kind}/${slug}/${named!.slice(dot + 1)}${rest}` };
  }
  return any ? { node: any, path } : { status: 503, detail: NO_NODE };
}

/** A node's answer with its session's Location (and the Link naming it) carrying the node's id: `<node>.<token>`. */
export function named(answer: Response, node: SfuNodeState): Response {
  const location = answer.headers.get('location');
  const resource = location ? RESOURCE.exec(location) : null;
  if (!location || !resource || resource[4]) return answer;
  const ours = `/${resource[1]}/${resource[2]}/${node.id}.${resource[3]}`;
  answer.headers.set('location', ours);
  const link = answer.headers.get('link');
  if (link) answer.headers.set('link', link.replaceAll(`<${location}/`, `<${ours}/`));
  return answer;
}

/**
 * Nodes an API found unreachable (a connection refused or reset, no answer in time) while the registry still lists
 * them: a node killed a moment ago stays listed until its entry lapses (ENTRY_TTL_MS). Each is skipped when choosing a
 * node until its entry lapses or it beats again (its entry's beatAt is not the one seen when it failed: it is alive).
 */
export class SuspectNodes {
  /** node id → the beatAt of its entry when a request to it failed */
  private readonly failed = new Map<string, number | undefined>();

  mark(node: SfuNodeState): void {
    this.failed.set(node.id, node.beatAt);
  }

  /** `nodes` without the suspects; forgets those that lapsed or beat since. */
  healthy(nodes: SfuNodeState[]): SfuNodeState[] {
    for (const [id, beatAt] of this.failed) {
      const n = nodes.find((x) => x.id === id);
      if (!n || n.beatAt !== beatAt) this.failed.delete(id);
    }
    return this.failed.size ? nodes.filter((n) => !this.failed.has(n.id)) : nodes;
  }
}

/**
 * Routes forwarding the SFU's paths to the node each request belongs to (one, with SFU_URL), with the client's
 * address (as this API resolved it) in X-Forwarded-For: the SFU's per-address caps count the viewer, not the API
 * (its TRUSTED_PROXIES names the API). Without an SFU service they answer 503, saying where live media runs.
 * An offer (a new session, not yet anywhere) whose node cannot be reached goes at once to the next node routing
 * picks without it, and that node is a suspect until it lapses or beats again (SuspectNodes): a viewer whose node
 * just died gets a session elsewhere rather than a 503. A session's own requests (PATCH, DELETE) go only to its node.
 */
export function sfuProxy(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const suspects = new SuspectNodes();
  const forward = async (c: Context<AppEnv>) => {
    const nodes: SfuNodes | undefined = c.var.deps.sfuNodes;
    if (!nodes) return problem(c, 503, 'Live media is served by the SFU, a Node service this API is not connected to (set SFU_URL to where `npm run sfu` runs).');
    const url = new URL(c.req.url);
    const { log } = c.var.deps;
    const headers = new Headers();
    for (const name of REQUEST_HEADERS) {
      const value = c.req.header(name);
      if (value !== undefined) headers.set(name, value);
    }
    headers.set('x-forwarded-for', c.var.address);
    const many = nodes.kind === 'redis';
    // an offer is kept (bounded as the SFU bounds it) so that it can go to another node; anything else streams through
    const offer = many && c.req.method === 'POST' && OFFER.test(url.pathname);
    let body: ReadableStream<Uint8Array> | Uint8Array | null = c.req.method !== 'GET' && c.req.method !== 'HEAD' ? c.req.raw.body : null;
    if (offer) {
      body = await readBounded(c.req.raw, MAX_SDP_BYTES, 'SDP offers');
      headers.delete('content-length');
    }
    for (let attempt = 0; ; attempt++) {
      let listed: SfuNodeState[];
      try {
        listed = await nodes.list();
      } catch (err) {
        log.warn({ err }, 'the SFU node registry cannot be read');
        return problem(c, 503, 'The live media servers cannot be found right now; try again shortly.');
      }
      // one node named by SFU_URL takes every path as it is; registered nodes each take their own (a suspect is
      // chosen for nothing new, but a session it holds is still its own)
      const target: Route = !many ? { node: listed[0]!, path: url.pathname } : route(RESOURCE.test(url.pathname) ? listed : suspects.healthy(listed), c.req.method, url.pathname, c.var.deps.config.sfuNode.edgePull);
      if (!('node' in target)) return problem(c, target.status, target.detail);
      let answer: Response;
      try {
        answer = await fetch(`${target.node.url}${target.path}${url.search}`, {
          method: c.req.method,
          headers,
          // the SFU bounds the body while reading it (an SDP offer is a few KB); this only streams it through
          ...(body ? { body, duplex: 'half' } : {}),
          redirect: 'manual',
          signal: AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(ANSWER_TIMEOUT_MS)]),
        } as RequestInit);
      } catch (err) {
        if (c.req.raw.signal.aborted) return problem(c, 503, 'The request was abandoned.'); // the client left: nobody reads this
        const node = target.node.id || undefined;
        if (many) suspects.mark(target.node);
        // each try leaves out one more node: there are at most as many tries as nodes listed
        if (offer && attempt < listed.length) {
          log.warn({ err, path: url.pathname, node }, 'SFU node unreachable; skipping it until it beats again, and sending the offer to another');
          continue;
        }
        log.warn({ err, path: url.pathname, node }, 'SFU service unreachable');
        return problem(c, 503, 'The live media service cannot be reached right now; try again shortly.');
      }
      const relayedAnswer = relayed(answer);
      return many ? named(relayedAnswer, target.node) : relayedAnswer;
    }
  };
  app.all('/whip/*', forward);
  app.all('/whep/*', forward);
  app.get('/api/ingest', forward);
  return app;
}
