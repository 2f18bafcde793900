// The few Deno APIs server/deno.ts uses, for `tsc` (which type-checks the repository with Node's types). Deno
// itself brings the real ones; what is declared here matches them (Deno 2's lib.deno.ns.d.ts).
declare namespace Deno {
  interface NetAddr {
    transport: 'tcp' | 'udp';
    hostname: string;
    port: number;
  }
  interface ServeHandlerInfo {
    remoteAddr: NetAddr;
  }
  interface HttpServer {
    readonly addr: NetAddr;
    readonly finished: Promise<void>;
    shutdown(): Promise<void>;
  }
  function serve(options: { hostname?: string; port?: number; signal?: AbortSignal; onListen?: (addr: NetAddr) => void }, handler: (request: Request, info: ServeHandlerInfo) => Response | Promise<Response>): HttpServer;
  function upgradeWebSocket(request: Request): { socket: WebSocket; response: Response };
  function addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  function exit(code?: number): never;
  const version: { deno: string; v8: string; typescript: string };
}
