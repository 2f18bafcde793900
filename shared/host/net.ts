// IP addresses: which family a string is, its canonical IPv6 spelling, and membership in sets of CIDR ranges (trusted
// proxies, the private networks a webhook may not reach). Host-specific because the web platform has no address
// parser; node:net's BlockList and SocketAddress are what Node's own sockets use, and Deno 2 implements both in its
// Node compatibility, so both runtimes match addresses the same way.
import { BlockList, isIP, SocketAddress } from 'node:net';

export type IpFamily = 'ipv4' | 'ipv6';

/** 4 or 6 for an IP address (IPv6 without brackets), 0 for anything else. */
export const ipVersion = (address: string): 0 | 4 | 6 => isIP(address) as 0 | 4 | 6;

/** An IPv6 address in its canonical (compressed, lower-case) form, e.g. `::ffff:7f00:1` → `::ffff:127.0.0.1`. */
export const canonicalIpv6 = (address: string): string => new SocketAddress({ address, family: 'ipv6' }).address.toLowerCase();

/** A set of address ranges; `has` is false for anything that is not an IP address. */
export class AddressRanges {
  private readonly list = new BlockList();

  add(network: string, prefix: number, family: IpFamily): this {
    this.list.addSubnet(network, prefix, family);
    return this;
  }

  has(address: string): boolean {
    const version = ipVersion(address);
    return version !== 0 && this.list.check(address, version === 6 ? 'ipv6' : 'ipv4');
  }
}
