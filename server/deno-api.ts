// The API and the web app on Deno (Deno.serve): the same app and domain code server/embedded.ts serves on Node. The
// media plane (mediasoup, FFmpeg) stays a Node service: with SFU_URL set, WHIP/WHEP go there (and the SFU reaches
// this API through the database and the Redis bus, as separate Node processes already do); without it, live media
// answers 503 saying so. Chat is the same Socket.IO server, on node:http under Deno's Node compatibility (the chat
// suites, tests/chat/, run on both runtimes): it listens on a loopback port of its own and this entry bridges
// /socket.io/ to it — HTTP long-polling by fetch, WebSocket frame by frame — so the web client keeps one protocol and
// one origin.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientAddress } from '../shared/client-address.ts';
import type { Config } from '../shared/config.ts';
import { Chat } from '../api/chat/server.ts';
import { relayed, sfuProxy } from '../api/sfu-proxy.ts';
import { openControlPlane, type ControlPlaneOptions } from './api.ts';
import type { RunningApi } from './embedded.ts';
import { listeningUrl } from './listening.ts';

/** Carries the client's address from the bridge to the chat server, with a secret only this process knows. */
const CLIENT_HEADER = 'x-glint-bridged-client';
/** What the chat server reads of a handshake or a polling request. */
const CHAT_HEADERS = ['cookie', 'origin', 'content-type', 'user-agent'];
/** How long a closing API waits for requests in flight before it stops waiting (and says so). */
const SHUTDOWN_WAIT_MS = 5000;

/** The chat bridge: where the chat server is, the secret vouching for a client's address, and the WebSockets it holds
 * open (both ends of each bridged connection). */
type Bridge = { chatBase: string; secret: string; sockets: Set<WebSocket>; closing: AbortController };

/** Serves the API on Deno until close(); `sfu` and `recorder` are never in this process. */
export async function startDenoApi(config: Config, opts: ControlPlaneOptions): Promise<RunningApi & { readyMs: number }> {
  const started = performance.now();
  const log = opts.log.child({ svc: 'api', runtime: 'deno' });
  const plane = await openControlPlane(config, { log, database: opts.database, pgliteInMemory: opts.pgliteInMemory });
  const app = plane.app([sfuProxy()]);

  // chat: Socket.IO on a loopback-only node:http server; every peer is the bridge, so the address is the bridged one
  const secret = crypto.randomUUID();
  const chatServer: HttpServer = createServer();
  await new Promise<void>((resolve, reject) => chatServer.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const chatBase = `http://127.0.0.1:${(chatServer.address() as AddressInfo).port}`;
  const bridgedAddress = (req: IncomingMessage): string | undefined => {
    const [key, address] = String(req.headers[CLIENT_HEADER] ?? '').split(' ');
    return key === secret && address ? address : undefined;
  };
  const chat = await Chat.create(chatServer, plane.deps, { addressOf: bridgedAddress });
  const bridge: Bridge = { chatBase, secret, sockets: new Set(), closing: new AbortController() };
  plane.startJobs(chat.push);

  let listening!: () => void;
  const listened = new Promise<void>((resolve) => (listening = resolve));
  // Every request runs in the async context the server started in, as on Node. Deno can hand a request to its
  // handler inside the context of an earlier one (seen with better-auth, whose AsyncLocalStorage then gave a request
  // the database adapter of an earlier request to another API: tests/api/two-instances.test.ts).
  const serverContext = AsyncLocalStorage.snapshot();
  const server = Deno.serve({ hostname: config.host, port: config.port, onListen: () => listening() }, (req, info) => serverContext(() => handle(req, info)));
  const handle = (req: Request, info: Deno.ServeHandlerInfo): Response | Promise<Response> => {
    const peer = (info.remoteAddr as Deno.NetAddr).hostname;
    if (new URL(req.url).pathname.startsWith('/socket.io/')) {
      // the same rule as every other request: X-Forwarded-For is believed from TRUSTED_PROXIES only
      return bridgeChat(bridge, req, clientAddress(peer, req.headers.get('x-forwarded-for'), config.trustedProxies));
    }
    return app.fetch(req, { peer });
  };
  await listened;
  const url = listeningUrl(config.host, server.addr.port);
  const readyMs = Math.round(performance.now() - started);
  log.info({ url, database: plane.deps.database.kind, bus: plane.deps.bus.kind, sfu: config.sfuUrl ?? 'none', readyMs }, 'api listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    readyMs,
    deps: plane.deps,
    sfu: undefined as never, // RunningApi's SFU is the Node entry's; suites that reach it run on Node only
    recorder: undefined,
    transcoder: undefined, // never on Deno: the 'vod.transcode' kind is not defined here, so this API never claims it
    chat,
    jobs: plane.jobs,
    searchSync: plane.searchSync,
    close: () =>
      (closing ??= (async () => {
        // Deno's graceful shutdown waits for every request and WebSocket in flight: the bridge's are ended first
        // (a long-poll or a bridged socket whose chat end is gone would otherwise hold it for ever)
        bridge.closing.abort();
        for (const socket of bridge.sockets) if (socket.readyState !== WebSocket.CLOSED) socket.close();
        await chat.close(); // disconnects every chat client (and stops the chat server)
        const waited = await Promise.race([server.shutdown().then(() => true), new Promise<false>((resolve) => setTimeout(resolve, SHUTDOWN_WAIT_MS, false))]);
        if (!waited) log.warn({ waitedMs: SHUTDOWN_WAIT_MS }, 'requests still in flight at shutdown; closing without them');
        await plane.close();
      })()),
  };
}

/**
 * Forwards one /socket.io/ request to the chat server at `chatBase`: a WebSocket upgrade is bridged frame by frame.
 * `secret` vouches for the client address it carries.
 */
async function bridgeChat(bridge: Bridge, req: Request, clientAddress: string): Promise<Response> {
  const { chatBase, secret } = bridge;
  const url = new URL(req.url);
  const target = `${chatBase}${url.pathname}${url.search}`;
  const headers = new Headers();
  for (const name of CHAT_HEADERS) {
    const value = req.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  headers.set(CLIENT_HEADER, `${secret} ${clientAddress}`);
  if (req.headers.get('upgrade')?.toLowerCase() === 'websocket') {
    // the chat server decides first (origin, caps, session id), so a refusal is an HTTP answer, not a dropped socket
    const upstream = new WebSocket(target.replace(/^http/, 'ws'), { headers } as unknown as string[]);
    upstream.binaryType = 'arraybuffer';
    // the chat server speaks first (engine.io's open packet, as soon as it accepts): held until the client is open
    const early: (string | ArrayBuffer)[] = [];
    upstream.onmessage = (e) => early.push(e.data);
    const opened = await new Promise<boolean>((resolve) => {
      upstream.onopen = () => resolve(true);
      upstream.onerror = () => resolve(false);
    });
    if (!opened) return new Response(null, { status: 400 });
    const { socket, response } = Deno.upgradeWebSocket(req);
    bridge.sockets.add(socket).add(upstream);
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      for (const data of early.splice(0)) socket.send(data);
      upstream.onmessage = (e) => socket.readyState === WebSocket.OPEN && socket.send(e.data);
    };
    socket.onmessage = (e) => upstream.readyState === WebSocket.OPEN && upstream.send(e.data);
    const closeBoth = () => {
      bridge.sockets.delete(socket);
      bridge.sockets.delete(upstream);
      for (const ws of [socket, upstream]) if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
    };
    socket.onclose = socket.onerror = upstream.onclose = upstream.onerror = closeBoth;
    return response;
  }
  const hasBody = req.method === 'POST' && req.body !== null;
  let answer: Response;
  try {
    answer = await fetch(target, { method: req.method, headers, ...(hasBody ? { body: req.body, duplex: 'half' } : {}), signal: AbortSignal.any([req.signal, bridge.closing.signal]) } as RequestInit);
  } catch {
    return new Response(null, { status: 502 }); // the client went away mid-poll, or chat is closing
  }
  return relayed(answer);
}
