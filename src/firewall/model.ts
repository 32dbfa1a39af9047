/**
 * The firewall's desired state, independent of the store schema, and its validation: every value that ends up
 * in an nft or iptables rule passes through here first, so no caller-supplied string reaches a rule unchecked.
 */
import { cidrHas, ipFamily, parseIp, parseSubnet, type Subnet } from '../core/ip';

export { parseSubnet, type Subnet };
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

/** Interface names that are safe inside a double-quoted nft string and match literally (no `*` wildcard). */
const SAFE_IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function validateBridgeName(name: string, what = 'bridge name'): string {
  validateIfName(name, what);
  if (!SAFE_IFNAME.test(name)) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(name)} is not allowed in a firewall rule: use letters, digits, "_", "." and "-"`);
  }
  return name;
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
    parseIp(b.hostIp, `${what}: host IP`);
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
  const ctr = b.containerPortEnd !== undefined && b.containerPortEnd !== b.containerPort ? `${b.containerPort}-${b.containerPortEnd}` : `${b.containerPort}`;
  const ip = b.hostIp === undefined ? '' : b.hostIp.includes(':') ? `[${b.hostIp}]:` : `${b.hostIp}:`;
  return `${b.proto} ${ip}${host}->${ctr}`;
}

/** Strips an optional "/LEN" from an endpoint address and validates the rest. */
function endpointAddress(text: string, what: string): string {
  const addr = typeof text === 'string' && text.includes('/') ? text.slice(0, text.indexOf('/')) : text;
  parseIp(addr, what);
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
      if (!subnetsOf.get(e.networkId)!.some((s) => cidrHas(s.cidr, a))) {
        throw new InvalidArgumentError(`address ${a} of ${what} is outside every subnet of network ${e.networkId}`);
      }
    }
    const published = (e.published ?? []).map((b, i) => validatePortBinding(b, `${what} binding ${i + 1}`));
    for (const b of published) {
      const fam = b.hostIp === undefined ? undefined : parseIp(b.hostIp).family;
      if (!addresses.some((a) => fam === undefined || ipFamily(a) === fam)) {
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
