/**
 * The firewall's desired state, independent of the store schema, and its validation: every value that ends up
 * in an nft or iptables rule passes through here first, so no caller-supplied string reaches a rule unchecked.
 */
import { isIP } from 'node:net';
import { InvalidArgumentError, NotFoundError } from '../core/errors';
import { validateIfName, validateObjectName } from '../core/names';

export type Proto = 'tcp' | 'udp';

/** One `-p [hostIp:]hostPort[-hostPortEnd]:containerPort[-containerPortEnd]/proto`, already concrete. */
export interface PortBinding {
  proto: Proto;
  /** Host address to listen on; absent means every local address of both families. */
  hostIp?: string;
  hostPort: number;
  /** Inclusive end of a host port range; the container range must then have the same length. */
  hostPortEnd?: number;
  containerPort: number;
  containerPortEnd?: number;
}

export interface FirewallNetwork {
  id: string;
  /** The Linux bridge (ifname) the network's endpoints are attached to. */
  bridge: string;
  /** The network's subnets, IPv4 and IPv6 CIDRs ("10.1.0.0/24", "fd00:1::/64"). */
  subnets: string[];
  /** Source-NAT traffic leaving the host from the subnets (Docker's enable_ip_masquerade). */
  masquerade: boolean;
  /** Allow traffic between endpoints of this network (Docker's enable_icc). */
  icc: boolean;
  /** No traffic to or from anything but the network's own bridge (Docker's --internal). */
  internal: boolean;
}

export interface FirewallEndpoint {
  networkId: string;
  endpointId: string;
  /** Host end of the endpoint's veth (a bridge port); used for bridge port isolation when icc is off. */
  hostVeth?: string;
  /** The endpoint's addresses, bare ("10.1.0.2") or with a prefix ("10.1.0.2/24"). */
  addresses: string[];
  published: PortBinding[];
}

export interface FirewallState {
  networks: FirewallNetwork[];
  endpoints: FirewallEndpoint[];
}

export const EMPTY_STATE: FirewallState = Object.freeze({ networks: [], endpoints: [] }) as FirewallState;

/** A parsed CIDR, canonical: host bits cleared, so it prints the same way nft lists it. */
export interface Subnet {
  family: 4 | 6;
  /** "10.1.0.0/24" */
  cidr: string;
}

/** Interface names that are safe inside a double-quoted nft string and match literally (no `*` wildcard). */
const SAFE_IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function validateBridgeName(name: string, what = 'bridge name'): string {
  validateIfName(name, what);
  if (!SAFE_IFNAME.test(name)) {
    throw new InvalidArgumentError(
      `${what} ${JSON.stringify(name)} is not allowed in a firewall rule: use letters, digits, "_", "." and "-"`,
    );
  }
  return name;
}

/** A bare IP address; the family, or an InvalidArgumentError naming it. */
export function parseAddress(ip: string, what = 'IP address'): 4 | 6 {
  const fam = typeof ip === 'string' ? isIP(ip) : 0;
  if (fam === 0 || ip.includes('%')) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(ip)} is not a valid IPv4 or IPv6 address`);
  }
  return fam as 4 | 6;
}

/** "ADDR/LEN" to a canonical subnet (host bits cleared). */
export function parseSubnet(cidr: string, what = 'subnet'): Subnet {
  const m = typeof cidr === 'string' ? /^([0-9A-Fa-f.:]+)\/(\d{1,3})$/.exec(cidr) : null;
  const fam = m ? isIP(m[1]) : 0;
  const len = m ? Number(m[2]) : -1;
  if (!m || fam === 0 || len > (fam === 4 ? 32 : 128)) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(cidr)} is not a valid CIDR (expected e.g. 10.1.0.0/24 or fd00::/64)`);
  }
  const bits = fam === 4 ? 32 : 128;
  const mask = len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(bits - len);
  const net = ipToBigInt(m[1], fam as 4 | 6) & mask;
  return { family: fam as 4 | 6, cidr: `${bigIntToIp(net, fam as 4 | 6)}/${len}` };
}

/** True when the bare address `ip` lies inside `subnet`. */
export function subnetContains(subnet: Subnet, ip: string): boolean {
  const fam = isIP(ip);
  if (fam !== subnet.family) return false;
  const [base, lenText] = subnet.cidr.split('/');
  const len = Number(lenText);
  const bits = fam === 4 ? 32 : 128;
  const shift = BigInt(bits - len);
  return ipToBigInt(ip, fam) >> shift === ipToBigInt(base, fam) >> shift;
}

export function ipToBigInt(ip: string, fam: 4 | 6): bigint {
  if (fam === 4) return ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = ipToBigInt(text.slice(lastColon + 1), 4);
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail ? tail.split(':') : [];
  const groups = [...hs, ...new Array(8 - hs.length - ts.length).fill('0'), ...ts];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function bigIntToIp(n: bigint, fam: 4 | 6): string {
  if (fam === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (length >= 2) of zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function validatePort(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(n)} is not a port number: use an integer 1..65535`);
  }
  return n;
}

/** Validates one binding; returns a copy without undefined optional members. */
export function validatePortBinding(b: PortBinding, what = 'port binding'): PortBinding {
  if (b.proto !== 'tcp' && b.proto !== 'udp') {
    throw new InvalidArgumentError(`${what}: protocol ${JSON.stringify(b.proto)} is not allowed: use "tcp" or "udp"`);
  }
  const out: PortBinding = {
    proto: b.proto,
    hostPort: validatePort(b.hostPort, `${what}: host port`),
    containerPort: validatePort(b.containerPort, `${what}: container port`),
  };
  if (b.hostIp !== undefined) {
    parseAddress(b.hostIp, `${what}: host IP`);
    out.hostIp = b.hostIp;
  }
  if (b.hostPortEnd !== undefined) out.hostPortEnd = validatePort(b.hostPortEnd, `${what}: host port range end`);
  if (b.containerPortEnd !== undefined) {
    out.containerPortEnd = validatePort(b.containerPortEnd, `${what}: container port range end`);
  }
  const hostLen = (out.hostPortEnd ?? out.hostPort) - out.hostPort;
  const ctrLen = (out.containerPortEnd ?? out.containerPort) - out.containerPort;
  if (hostLen < 0 || ctrLen < 0) {
    throw new InvalidArgumentError(`${what}: port range ${describeBinding(out)} ends before it starts`);
  }
  if (hostLen !== ctrLen) {
    throw new InvalidArgumentError(
      `${what}: host ports ${out.hostPort}-${out.hostPortEnd ?? out.hostPort} and container ports ` +
        `${out.containerPort}-${out.containerPortEnd ?? out.containerPort} differ in length; ` +
        'a host range for a single container port must first be narrowed to one port (Firewall.resolvePorts)',
    );
  }
  return out;
}

/** "tcp 0.0.0.0:8080-8081->80-81" style text for messages and describe(). */
export function describeBinding(b: PortBinding): string {
  const host = b.hostPortEnd !== undefined && b.hostPortEnd !== b.hostPort ? `${b.hostPort}-${b.hostPortEnd}` : `${b.hostPort}`;
  const ctr =
    b.containerPortEnd !== undefined && b.containerPortEnd !== b.containerPort
      ? `${b.containerPort}-${b.containerPortEnd}`
      : `${b.containerPort}`;
  const ip = b.hostIp === undefined ? '' : b.hostIp.includes(':') ? `[${b.hostIp}]:` : `${b.hostIp}:`;
  return `${b.proto} ${ip}${host}->${ctr}`;
}

/** Strips an optional "/LEN" from an endpoint address and validates the rest. */
function endpointAddress(text: string, what: string): string {
  const addr = typeof text === 'string' && text.includes('/') ? text.slice(0, text.indexOf('/')) : text;
  parseAddress(addr, what);
  return addr;
}

/**
 * Validates a whole desired state and returns a normalised copy (canonical subnets, bare endpoint addresses).
 * Rejects with InvalidArgumentError naming the bad value, or NotFoundError for an endpoint of an unknown network.
 */
export function validateState(state: FirewallState): FirewallState {
  const networks = new Map<string, FirewallNetwork>();
  const subnetsOf = new Map<string, Subnet[]>();
  const bridges = new Map<string, string>();
  for (const n of state.networks ?? []) {
    validateObjectName(n.id, 'network');
    if (networks.has(n.id)) throw new InvalidArgumentError(`network ${JSON.stringify(n.id)} appears twice in the firewall state`);
    validateBridgeName(n.bridge, `bridge of network ${n.id}`);
    const other = bridges.get(n.bridge);
    if (other !== undefined) {
      throw new InvalidArgumentError(`bridge ${JSON.stringify(n.bridge)} is used by both network ${other} and network ${n.id}`);
    }
    for (const flag of ['masquerade', 'icc', 'internal'] as const) {
      if (typeof n[flag] !== 'boolean') {
        throw new InvalidArgumentError(`network ${n.id}: ${flag} ${JSON.stringify(n[flag])} must be true or false`);
      }
    }
    const subnets = (n.subnets ?? []).map((s) => parseSubnet(s, `subnet of network ${n.id}`));
    bridges.set(n.bridge, n.id);
    subnetsOf.set(n.id, subnets);
    networks.set(n.id, { ...n, subnets: subnets.map((s) => s.cidr) });
  }
  const seen = new Set<string>();
  const endpoints = (state.endpoints ?? []).map((e) => {
    validateObjectName(e.endpointId, 'endpoint');
    if (!networks.has(e.networkId)) throw new NotFoundError('network', String(e.networkId));
    const key = `${e.networkId}/${e.endpointId}`;
    if (seen.has(key)) throw new InvalidArgumentError(`endpoint ${e.endpointId} of network ${e.networkId} appears twice`);
    seen.add(key);
    const what = `endpoint ${e.endpointId}`;
    if (e.hostVeth !== undefined) validateBridgeName(e.hostVeth, `host veth of ${what}`);
    const addresses = (e.addresses ?? []).map((a) => endpointAddress(a, `address of ${what}`));
    for (const a of addresses) {
      if (!subnetsOf.get(e.networkId)!.some((s) => subnetContains(s, a))) {
        throw new InvalidArgumentError(`address ${a} of ${what} is outside every subnet of network ${e.networkId}`);
      }
    }
    const published = (e.published ?? []).map((b, i) => validatePortBinding(b, `${what} binding ${i + 1}`));
    for (const b of published) {
      const fam = b.hostIp === undefined ? undefined : parseAddress(b.hostIp);
      if (!addresses.some((a) => fam === undefined || isIP(a) === fam)) {
        throw new InvalidArgumentError(
          `${what}: ${describeBinding(b)} needs an endpoint address of the host IP's family; the endpoint has ${JSON.stringify(addresses)}`,
        );
      }
    }
    const out: FirewallEndpoint = { networkId: e.networkId, endpointId: e.endpointId, addresses, published };
    if (e.hostVeth !== undefined) out.hostVeth = e.hostVeth;
    return out;
  });
  return { networks: [...networks.values()], endpoints };
}
