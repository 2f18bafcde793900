// The media plane's HTTP when the SFU runs as its own Node service (SFU_URL): WHIP, WHEP and GET /api/ingest are
// forwarded there, so a browser keeps one origin whatever runs the API (Node, or Deno, which cannot host mediasoup).
// Behind Caddy these routes can go to the SFU directly; this is for everything that reaches the API first.
// Portable: fetch and web streams only.
import { Hono, type Context } from 'hono';
import { problemForStatus, problemHeaders } from '../shared/errors.ts';
import type { AppEnv } from './context.ts';

/** What a WHIP/WHEP client sends that the SFU reads (credentials, the offer, ICE restarts, CORS preflights). */
const REQUEST_HEADERS = ['authorization', 'content-type', 'content-length', 'if-match', 'cookie', 'origin', 'access-control-request-method', 'access-control-request-headers'];
/** Seconds a client is told to wait while the SFU service cannot be reached. */
const RETRY_SECONDS = 5;
/** The SFU answers an offer in well under a second; past this the service is treated as down. */
const ANSWER_TIMEOUT_MS = 15_000;

function unavailable(c: Context, detail: string) {
  return c.body(JSON.stringify(problemForStatus(503, detail, c.req.path)), 503, problemHeaders(RETRY_SECONDS));
}

/** Hop-by-hop headers: the upstream connection's, not the answer's (RFC 9110 §7.6.1). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade'];

/** An upstream's answer passed on to the client, without its connection's own headers. */
export function relayed(answer: Response): Response {
  const headers = new Headers(answer.headers);
  for (const name of HOP_BY_HOP) headers.delete(name);
  return new Response(answer.body, { status: answer.status, headers });
}

/**
 * Routes forwarding the SFU's paths to `sfuUrl`, with the client's address (as this API resolved it) in
 * X-Forwarded-For: the SFU's per-address caps count the viewer, not the API (its TRUSTED_PROXIES names the API).
 * Without an SFU service they answer 503, saying where live media runs.
 */
export function sfuProxy(sfuUrl: string | undefined): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const forward = async (c: Context<AppEnv>) => {
    if (!sfuUrl) return unavailable(c, 'Live media is served by the SFU, a Node service this API is not connected to (set SFU_URL to where `npm run sfu` runs).');
    const url = new URL(c.req.url);
    const headers = new Headers();
    for (const name of REQUEST_HEADERS) {
      const value = c.req.header(name);
      if (value !== undefined) headers.set(name, value);
    }
    headers.set('x-forwarded-for', c.var.address);
    const hasBody = c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.req.raw.body !== null;
    let answer: Response;
    try {
      answer = await fetch(`${sfuUrl}${url.pathname}${url.search}`, {
        method: c.req.method,
        headers,
        // the SFU bounds the body while reading it (an SDP offer is a few KB); this only streams it through
        ...(hasBody ? { body: c.req.raw.body, duplex: 'half' } : {}),
        redirect: 'manual',
        signal: AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(ANSWER_TIMEOUT_MS)]),
      } as RequestInit);
    } catch (err) {
      c.var.deps.log.warn({ err, path: url.pathname }, 'SFU service unreachable');
      return unavailable(c, 'The live media service cannot be reached right now; try again shortly.');
    }
    return relayed(answer);
  };
  app.all('/whip/*', forward);
  app.all('/whep/*', forward);
  app.get('/api/ingest', forward);
  return app;
}
