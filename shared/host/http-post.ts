// One POST to a stranger's server (a webhook receiver) with the guards fetch() cannot give: the host's addresses are
// looked up here, with a timeout, and checked before connecting (the connection goes to the address checked, so DNS
// rebinding gets nothing past), and one deadline covers all of it. Host-specific because fetch has no lookup hook;
// Deno runs this module through its Node compatibility (Deno 2 implements node:http, node:https, node:dns/promises).
import type { LookupAddress } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

/** What the lookup refuses: `isPrivate` addresses (unless `allowPrivate`), and `localhost` names with them. */
export type AddressPolicy = { allowPrivate: boolean; isPrivate: (address: string) => boolean };

/** `localhost` and its subdomains are loopback by definition (RFC 6761), whatever a name server says. */
const isLocalhostName = (host: string) => /(^|\.)localhost\.?$/i.test(host);

/**
 * A DNS lookup through direct queries (c-ares) with a timeout. The system resolver (getaddrinfo) has none and holds
 * one of libuv's four threadpool threads while it waits, so a slow name server would stall the whole process's file
 * and crypto work; a name is a stranger's input like any other. Private addresses are refused (unless allowed) on the
 * addresses actually connected to. `servers` is for tests (a name server that never answers).
 */
export function pinnedLookup(opts: AddressPolicy & { timeoutMs: number; servers?: string[] }): LookupFunction {
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
      const bad = opts.allowPrivate ? undefined : addresses.find((a) => opts.isPrivate(a.address));
      if (bad) return answer(refused(bad.address), []);
      answer(null, addresses);
    });
  };
}

/**
 * POSTs `body` and resolves with the receiver's status. One deadline covers all of it — the lookup, connecting, the
 * answer's headers and reading its body — so a receiver that trickles its answer a byte at a time cannot hold the
 * request (an idle timeout never fires on it). Redirects are not followed; past `maxResponseBytes` of answer the
 * status is taken and the rest is not read.
 */
export function postOnce(
  url: URL,
  headers: Record<string, string>,
  body: string,
  opts: AddressPolicy & { timeoutMs: number; maxResponseBytes: number; signal?: AbortSignal },
): Promise<number> {
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
    const req = (url.protocol === 'https:' ? https : http).request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        signal,
        agent: false,
        lookup: pinnedLookup(opts),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > opts.maxResponseBytes) settle(null, status);
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
