// The API's Hono app: middleware, resources, OpenAPI document and docs page, health, metrics, the web shell.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { throttledWarn } from '../shared/logger.ts';
import { AppError, invalid, problemForStatus, problemHeaders, tooLarge, unsupportedMedia, type Problem } from '../shared/errors.ts';
import { clientAddress } from '../shared/client-address.ts';
import { discardBody } from '../shared/request-body.ts';
import { asUnavailable } from '../shared/db/errors.ts';
import { findTextFault, textFault } from '../shared/rules.ts';
import { packageDir } from '../shared/host/paths.ts';
import { loadUser, requireTrustedOrigin } from './access.ts';
import type { AppEnv, Deps } from './context.ts';
import { problems } from './openapi.ts';
import { authApp, documentAuth } from './routes/auth.ts';
import { broadcastApp } from './routes/broadcast.ts';
import { outboxApp } from './routes/outbox.ts';
import { sfuNodesApp } from './routes/sfu-nodes.ts';
import { profilesApp } from './routes/profiles.ts';
import { channelsApp } from './routes/channels.ts';
import { configApp } from './routes/config.ts';
import { emotesApp, isEmoteUpload } from './routes/emotes.ts';
import { followersApp, followingApp, followsApp } from './routes/follows.ts';
import { notificationsApp } from './routes/notifications.ts';
import { webhooksApp } from './routes/webhooks.ts';
import { mySubscriptionsApp, subscriptionsApp } from './routes/subscriptions.ts';
import { healthApp } from './routes/health.ts';
import { categoriesApp, searchApp } from './routes/search.ts';
import { streamKeysApp } from './routes/stream-keys.ts';
import { channelVodsApp, hlsApp, vodsApp } from './routes/vods.ts';
import { videosApp } from './routes/videos.ts';
import { uploadsApp } from './routes/uploads.ts';
import { UPLOADS_PATH } from './upload-server.ts';
import { meApp, usersApp } from './routes/users.ts';
import { serveFiles, webApp } from './web.ts';

const swaggerDir = packageDir('swagger-ui-dist');

/**
 * The connection's peer address, from what the server hands the app as its env: the Deno entry (server/deno-api.ts)
 * passes it as `peer`, @hono/node-server its IncomingMessage (`incoming`).
 */
type ServerEnv = { peer?: string; incoming?: { socket: { remoteAddress?: string } } };
const peerAddress = (env: unknown): string | undefined => {
  const e = env as ServerEnv | undefined;
  return e?.peer ?? e?.incoming?.socket.remoteAddress;
};

function problem(c: Context, p: Problem, retryAfterSeconds?: number) {
  return c.body(JSON.stringify(p), p.status as 400, problemHeaders(retryAfterSeconds));
}

/** JSON bodies only, except the routes that take raw uploads; anything else is a 415 before validation. */
const requireJsonBodies = async (c: Context<AppEnv>, next: () => Promise<void>) => {
  const hasBody = Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding') !== undefined;
  if (hasBody && ['POST', 'PUT', 'PATCH'].includes(c.req.method) && !c.req.path.endsWith('/avatar') && !isEmoteUpload(c.req.path)) {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw unsupportedMedia(`Send JSON (Content-Type: application/json), not "${type || 'nothing'}".`);
  }
  await next();
};

const FORM = 'application/x-www-form-urlencoded';
/** what Hono's json validator parses: application/json and any application/…+json */
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/;

/**
 * Text no database can store (NUL, lone surrogates) in the path, any query value or a JSON or form body is a 400
 * naming where it is, before any route or better-auth sees it; a body nested too deeply is one too. Runs after
 * bodyLimit, so the body it reads is bounded; Hono keeps the text it read for the route's validator
 * (c.req.json() parses the cached text again) and for better-auth (api/routes/auth.ts hands it on).
 */
const refuseUnstorableText = async (c: Context<AppEnv>, next: () => Promise<void>) => {
  const refuse = (fault: { path: string; message: string }) => {
    throw invalid(`${fault.path} ${fault.message}.`, [fault]);
  };
  const pairs = (entries: Iterable<[string, string]>, root: string) => {
    for (const [key, value] of entries) {
      const keyFault = textFault(key);
      if (keyFault) refuse({ path: root, message: `has a parameter name that ${keyFault}` });
      const fault = textFault(value);
      if (fault) refuse({ path: `${root}.${key}`, message: fault });
    }
  };
  const pathFault = textFault(c.req.path) ?? textFault(decodeOrSelf(c.req.path));
  if (pathFault) refuse({ path: 'path', message: pathFault });
  pairs(Object.entries(c.req.queries()).flatMap(([key, values]) => values.map((v): [string, string] => [key, v])), 'query');
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (c.req.raw.body && type === FORM) pairs(new URLSearchParams(await c.req.text()), 'form');
  if (c.req.raw.body && JSON_TYPE.test(type)) {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      // malformed JSON: the route's validator (or better-auth) answers it as it always has
    }
    const fault = findTextFault(body, 'json');
    if (fault) refuse(fault);
  }
  await next();
};

/** Percent-decoded once more, as Hono decodes a path parameter; the string itself when it is not valid %-encoding. */
function decodeOrSelf(s: string) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const UNSAFE = ['post', 'put', 'patch', 'delete'] as const;
const METHODS = ['get', 'head', ...UNSAFE] as const;
type Responses = Record<string, unknown>;

/**
 * Responses every route of a kind can give because of middleware rather than its handler, added where a route does
 * not list them itself: 400 (and Node's 431) on every operation (refuseUnstorableText reads the path and query of all of them, and a
 * path parameter over its length is refused by the route's own schema), 413 on every state change (bodyLimit reads
 * any method's body), 415 on those that take JSON (requireJsonBodies, better-auth), and 403 for a state change with a
 * session cookie from an untrusted origin (requireTrustedOrigin; better-auth's routes are not behind it).
 */
function withSharedResponses<D extends { paths?: object }>(doc: D): D {
  const add = (responses: Responses, status: number, description: string) => {
    responses[status] ??= { ...problems(status)[status], description };
  };
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Record<string, unknown>>)) {
    if (!path.startsWith('/api/')) continue;
    for (const method of METHODS) {
      const responses = (item[method] as { responses?: Responses } | undefined)?.responses;
      if (!responses) continue;
      add(responses, 400, 'Invalid input: a path parameter or query value that breaks its rules, or text with a NUL character or invalid Unicode.');
      // Node's HTTP parser answers this one itself, with no body, before any of the API runs
      responses[431] ??= { description: 'The request line or headers are larger than Node accepts (16 KiB).' };
      if (!(UNSAFE as readonly string[]).includes(method)) continue;
      add(responses, 413, `The body is larger than the limit (MAX_BODY_BYTES).`);
      if (method !== 'delete') add(responses, 415, 'The body is not JSON (Content-Type: application/json).');
      if (!path.startsWith('/api/auth/')) add(responses, 403, 'The session cookie came from a page of an untrusted origin.');
    }
  }
  return doc;
}

/** The SFU's routes (plain Hono), or the proxy to an SFU service (which reads the API's variables). */
export type MediaApp = Hono | Hono<AppEnv>;

/** `media` are apps mounted at the root before the web fallback (the embedded SFU's /whip and /whep). */
export function createApp(deps: Deps, media: MediaApp[] = []) {
  const app = new OpenAPIHono<AppEnv>();
  const { config, log } = deps;

  app.use('*', deps.metrics.middleware);
  app.use('*', secureHeaders({ crossOriginEmbedderPolicy: false, crossOriginResourcePolicy: 'same-origin' }));
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    // the one place the client's address is decided; every per-address rule reads c.var.address
    c.set('address', clientAddress(peerAddress(c.env), c.req.header('x-forwarded-for'), config.trustedProxies));
    await next();
  });
  app.use('/api/*', async (c, next) => {
    // a tus chunk streams to the upload store, bounded by api/uploads.ts (this limit would hold it in memory)
    const tusChunk = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase() === 'application/offset+octet-stream';
    if (tusChunk && (c.req.path === UPLOADS_PATH || c.req.path.startsWith(`${UPLOADS_PATH}/`))) return next();
    const maxSize = c.req.path.endsWith('/avatar') || isEmoteUpload(c.req.path) ? config.maxUploadBytes : config.maxBodyBytes;
    return bodyLimit({
      maxSize,
      onError: async (c) => {
        const body = c.req.raw.body;
        if (body && !body.locked) await discardBody(body.getReader(), 16 * maxSize);
        throw tooLarge(`The body is larger than ${maxSize} bytes.`);
      },
    })(c, next);
  });
  app.use('/api/*', refuseUnstorableText);
  app.use('/api/*', requireTrustedOrigin);
  app.use('/api/*', loadUser);
  app.use('/api/channels/*', requireJsonBodies);
  app.use('/api/users/*', requireJsonBodies);
  app.use('/api/me/*', requireJsonBodies);

  app.route('/api/auth', authApp);
  documentAuth(app);
  app.route('/api/channels', channelsApp);
  app.route('/api/channels', broadcastApp);
  app.route('/api/channels', streamKeysApp);
  app.route('/api/channels', channelVodsApp);
  app.route('/api/channels', followsApp);
  app.route('/api/channels', followersApp);
  app.route('/api/channels', webhooksApp);
  app.route('/api/channels', subscriptionsApp);
  app.route('/api/channels', emotesApp);
  app.route('/api/vods', vodsApp);
  app.route('/api/videos', videosApp);
  app.route(UPLOADS_PATH, uploadsApp);
  app.route('/', hlsApp);
  app.route('/api/me', meApp);
  app.route('/api/me', followingApp);
  app.route('/api/me', notificationsApp);
  app.route('/api/me', mySubscriptionsApp);
  app.route('/api/users', usersApp);
  app.route('/api/profiles', profilesApp);
  app.route('/api/admin', outboxApp);
  app.route('/api/admin', sfuNodesApp);
  app.route('/api/search', searchApp);
  app.route('/api/categories', categoriesApp);
  app.route('/api', configApp);
  app.route('/', healthApp);

  app.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: 'better-auth.session_token',
  });
  const documentConfig = {
    openapi: '3.1.0',
    info: {
      title: 'Glint API',
      version: '0.1.0',
      description: 'Channels, accounts, stream keys and recordings (VoDs). Errors are RFC 9457 application/problem+json.',
    },
    servers: [{ url: config.publicUrl }],
  };
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.get('/api/openapi.json', (c) => c.json((document ??= withSharedResponses(app.getOpenAPI31Document(documentConfig)))));
  app.get('/api/docs', (c) => c.html(docsPage));
  app.use('/api/docs/assets/*', serveFiles({ root: swaggerDir, rewriteRequestPath: (p) => p.replace(/^\/api\/docs\/assets/, '') }));

  app.notFound((c) => problem(c, problemForStatus(404, `No route for ${c.req.method} ${c.req.path}.`, c.req.path)));
  const databaseDown = throttledWarn(log, 'database unavailable; answering 503');
  app.onError((err, c) => {
    if (err instanceof AppError) return problem(c, err.toProblem(c.req.path), err.retryAfterSeconds);
    // the database away (restart, failover, network) is a wait, not a bug: 503 with Retry-After, logged rate-limited
    const down = asUnavailable(err);
    if (down) {
      databaseDown(err);
      return problem(c, down.toProblem(c.req.path), down.retryAfterSeconds);
    }
    if (err instanceof HTTPException) {
      const status = err.status >= 400 && err.status < 500 ? err.status : 500;
      return problem(c, problemForStatus(status, err.message || 'Bad request.', c.req.path));
    }
    log.error({ err, method: c.req.method, path: c.req.path }, 'unhandled error');
    return problem(c, problemForStatus(500, 'Something went wrong on our side; it has been logged.', c.req.path));
  });

  for (const m of media) app.route('/', m as Hono<AppEnv>); // a plain app reads no variables: sound
  // Everything that is not the API: the browser app (static files with an SPA fallback).
  app.route('/', webApp);
  return app;
}

export type App = ReturnType<typeof createApp>;

const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Glint API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#docs', deepLinking: true, withCredentials: true });</script>
</body></html>`;
