/**
 * What cnm's DNS knows, per network: every sandbox (and container) on it by its name and its aliases, with the
 * endpoint's addresses, and the reverse. Pure: built from the endpoint records of one network at query time, so a
 * connect or disconnect is visible to the very next query.
 */
import { addrOf, canonicalIp, parseIp } from '../core/ip';

export interface DnsEndpoint {
  sandbox: string;
  aliases?: string[];
  /** "ADDR/LEN" */
  address?: string;
  addressV6?: string;
}

export interface NameRecord {
  /** the endpoint's sandbox (the first one's, for a name shared by several) */
  sandbox: string;
  /** the first name: the container's name for containers (their first alias), else the sandbox name */
  primary: string;
  v4: string[];
  v6: string[];
}

const bare = (cidr: string): string => canonicalIp(addrOf(cidr));
const key = (name: string): string => name.toLowerCase().replace(/\.$/, '');

export class NameTable {
  private readonly byName = new Map<string, NameRecord>();
  private readonly byAddress = new Map<string, { name: string; sandbox: string }>();

  constructor(endpoints: DnsEndpoint[]) {
    for (const ep of endpoints) {
      const names = [...(ep.aliases ?? []), ep.sandbox];
      const rec: NameRecord = {
        sandbox: ep.sandbox,
        primary: names[0],
        v4: ep.address ? [bare(ep.address)] : [],
        v6: ep.addressV6 ? [bare(ep.addressV6)] : [],
      };
      for (const n of names) {
        // one name on two endpoints (an alias shared by replicas) answers with every address, like Docker's round robin
        const had = this.byName.get(key(n));
        this.byName.set(key(n), had ? { ...had, v4: [...had.v4, ...rec.v4], v6: [...had.v6, ...rec.v6] } : rec);
      }
      for (const a of [...rec.v4, ...rec.v6]) this.byAddress.set(a, { name: rec.primary, sandbox: ep.sandbox });
    }
  }

  lookup(name: string): NameRecord | undefined {
    return this.byName.get(key(name));
  }

  /** The name of the endpoint holding `ip`, if one does. */
  nameOf(ip: string): string | undefined {
    return this.byAddress.get(canonicalIp(ip))?.name;
  }

  /** The sandbox of the endpoint holding `ip` (an asker), or undefined: not an endpoint of this network. */
  sandboxOf(ip: string): string | undefined {
    return this.byAddress.get(canonicalIp(ip.replace(/^::ffff:/, '')))?.sandbox;
  }

  /** Whether `ip` is an endpoint of this network (only those are answered). */
  has(ip: string): boolean {
    return this.sandboxOf(ip) !== undefined;
  }
}

/** "4.3.2.1.in-addr.arpa" → "1.2.3.4"; an ip6.arpa name of 32 nibbles → the IPv6 address; else undefined. */
export function reverseNameToIp(name: string): string | undefined {
  const n = key(name);
  if (n.endsWith('.in-addr.arpa')) {
    const parts = n.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4) return undefined;
    return validIp(parts.reverse().join('.'));
  }
  if (n.endsWith('.ip6.arpa')) {
    const nibbles = n.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((x) => /^[0-9a-f]$/.test(x))) return undefined;
    const hex = nibbles.reverse().join('');
    return validIp(hex.match(/.{4}/g)!.join(':'));
  }
  return undefined;
}

function validIp(ip: string): string | undefined {
  try {
    return canonicalIp(parseIp(ip).address);
  } catch {
    return undefined;
  }
}
