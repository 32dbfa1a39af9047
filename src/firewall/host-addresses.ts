/**
 * The host's own addresses, for `-p HOSTIP:HOSTPORT:PORT`: Docker binds a socket on HOSTIP and fails with
 * "cannot assign requested address" when the host does not have it; cnm DNATs instead of binding, so without
 * this check a typo'd or stale host IP would be accepted and silently publish nothing. Read from procfs of the
 * managed netns (works through HostExec in a test netns too): IPv4 from the local routing table in
 * /proc/net/fib_trie (its "host LOCAL" entries, which also cover all of 127.0.0.0/8), IPv6 from /proc/net/if_inet6.
 */
import { InvalidArgumentError } from '../core/errors';
import { type HostExec } from './host-exec';
import { bigIntToIp, cidrHas, parseSubnet, type Subnet } from '../core/ip';
import { describeBinding, type PortBinding } from './model';

/** Every "ADDR\n  /LEN host LOCAL" pair of fib_trie, as CIDRs ("192.0.2.2/32", "127.0.0.0/8"); duplicates removed. */
export function parseFibTrieLocal(text: string): string[] {
  const out = new Set<string>();
  let addr: string | undefined;
  for (const line of text.split('\n')) {
    const leaf = /^\s*\|-- (\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (leaf) {
      addr = leaf[1];
      continue;
    }
    const info = /^\s*\/(\d+) \S+ LOCAL\s*$/.exec(line);
    if (info && addr !== undefined) out.add(`${addr}/${info[1]}`);
  }
  return [...out];
}

/** /proc/net/if_inet6: "00000000000000000000000000000001 01 80 10 80 lo" → "::1/128" (an address, not its prefix). */
export function parseIfInet6(text: string): string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const hex = line.trim().split(/\s+/)[0];
    if (!/^[0-9a-fA-F]{32}$/.test(hex ?? '')) continue;
    out.add(`${bigIntToIp(BigInt(`0x${hex}`), 6)}/128`);
  }
  return [...out];
}

/** The local addresses of the managed netns; an unreadable file (IPv6 disabled) contributes none. */
export async function readLocalAddresses(exec: HostExec): Promise<Subnet[]> {
  const v4 = parseFibTrieLocal(await exec.readFile('/proc/net/fib_trie').catch(() => ''));
  const v6 = parseIfInet6(await exec.readFile('/proc/net/if_inet6').catch(() => ''));
  return [...v4, ...v6].map((c) => parseSubnet(c));
}

const isWildcard = (ip: string) => ip === '0.0.0.0' || ip === '::';

/** True when some binding names a specific host IP (only then are the host's addresses worth reading). */
export function needsLocalAddresses(bindings: PortBinding[]): boolean {
  return bindings.some((b) => b.hostIp !== undefined && !isWildcard(b.hostIp));
}

/**
 * Rejects with InvalidArgumentError naming the binding when its host IP is not an address of the host (and not
 * the wildcard 0.0.0.0 or ::), as `docker run -p` fails on the bridge driver.
 */
export function checkHostAddresses(bindings: PortBinding[], local: Subnet[]): void {
  for (const b of bindings) {
    if (b.hostIp === undefined || isWildcard(b.hostIp)) continue;
    const ip = b.hostIp;
    if (local.some((s) => cidrHas(s.cidr, ip))) continue;
    const have = local.map((s) => (s.cidr.endsWith('/32') || s.cidr.endsWith('/128') ? s.cidr.slice(0, s.cidr.lastIndexOf('/')) : s.cidr));
    const shown = have.length > 8 ? `${have.slice(0, 8).join(', ')}, …` : have.join(', ');
    throw new InvalidArgumentError(
      `host IP ${ip} of ${describeBinding(b)} is not an address of this host (it has ${shown || 'none'}): ` +
        'publish on one of its addresses, on 0.0.0.0 or :: (every address), or give no host IP',
    );
  }
}
