// Who is on the other end of a connection. Behind a reverse proxy (Caddy) every request arrives from the proxy's
// address and the client's is in X-Forwarded-For; that header is anyone's to write, so it is believed only when the
// peer that sent it is a proxy the operator named in TRUSTED_PROXIES. Every per-address limit (HTTP, WHIP/WHEP, chat,
// better-auth) asks this one function.
import { AddressRanges, ipVersion, type IpFamily } from './host/net.ts';

/** The proxies whose X-Forwarded-For is believed; built once from config. */
export type TrustedProxies = { readonly list: AddressRanges; readonly any: boolean };

/** Words TRUSTED_PROXIES accepts besides addresses and CIDR ranges. */
const NAMED: Record<string, [string, number, IpFamily][]> = {
  loopback: [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']],
  // private networks: a proxy in the same Docker network or LAN
  private: [['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['fc00::', 7, 'ipv6']],
};

/**
 * Parses a comma-separated list of addresses, CIDR ranges and the words `loopback` and `private`. Throws with the
 * entry that is none of those (config reports it).
 */
export function parseTrustedProxies(spec: string): TrustedProxies {
  const list = new AddressRanges();
  let any = false;
  for (const raw of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const named = NAMED[raw.toLowerCase()];
    if (named) {
      for (const [net, prefix, family] of named) list.add(net, prefix, family);
      any = true;
      continue;
    }
    const [addr, bits] = raw.split('/');
    const family = ipVersion(addr ?? '');
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new Error(`"${raw}" is not an IP address, a CIDR range, "loopback" or "private"`);
    }
    list.add(addr!, prefix, family === 6 ? 'ipv6' : 'ipv4');
    any = true;
  }
  return { list, any };
}

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) as `1.2.3.4`; anything else as it is. */
export function normalizeAddress(address: string): string {
  const a = address.trim().replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return mapped ? mapped[1]! : a;
}

function isTrusted(address: string, trusted: TrustedProxies): boolean {
  return trusted.any && trusted.list.has(address);
}

/**
 * The client's address: the connection's peer, unless that peer is a trusted proxy; then X-Forwarded-For is read
 * from the right (the entry the nearest proxy added) past every trusted proxy, and the first address that is not
 * one is the client. A malformed entry stops the walk (what lies left of it was written by the client).
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null | undefined, trusted: TrustedProxies): string {
  const direct = normalizeAddress(peer ?? '');
  if (!direct || !forwardedFor || !isTrusted(direct, trusted)) return direct || 'unknown';
  const hops = forwardedFor.split(',').map(normalizeAddress).filter(Boolean);
  let client = direct;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!ipVersion(hop)) break;
    client = hop;
    if (!isTrusted(hop, trusted)) break;
  }
  return client;
}
