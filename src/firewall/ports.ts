/**
 * Host port bookkeeping for published ports: conflicts between bindings, sockets already listening on the
 * host (read from /proc/net/{tcp,tcp6,udp,udp6}), and choosing a free host port for `-P` or a host range.
 */
import { ConflictError, ExhaustedError, InvalidArgumentError } from '../core/errors';
import { bigIntToIp, ipFamily } from '../core/ip';
import { describeBinding, type FirewallState, type PortBinding, type Proto, validatePortBinding } from './model';

/** A socket bound on the host: `ip` is "0.0.0.0" or "::" for a wildcard bind. */
export interface Listener {
  proto: Proto;
  ip: string;
  port: number;
}

/** What a binding asks for before a host port is chosen: hostPort 0 means "any free port" (`-P`). */
export interface PortRequest {
  proto: Proto;
  hostIp?: string;
  /** 0: pick one from the ephemeral range; with hostPortEnd: pick one from hostPort..hostPortEnd. */
  hostPort: number;
  hostPortEnd?: number;
  containerPort: number;
  containerPortEnd?: number;
}

/** Docker's default ephemeral range for `-P` (moby portallocator: /proc/sys/net/ipv4/ip_local_port_range fallback). */
export const EPHEMERAL_RANGE: readonly [number, number] = [49153, 60999];

function hostRange(b: { hostPort: number; hostPortEnd?: number }): [number, number] {
  return [b.hostPort, b.hostPortEnd ?? b.hostPort];
}

function isWildcard(ip: string | undefined): boolean {
  return ip === undefined || ip === '0.0.0.0' || ip === '::';
}

/** Two host addresses can receive the same packets: equal, or one of them a wildcard of a compatible family. */
function ipsOverlap(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  const fa = ipFamily(a);
  const fb = ipFamily(b);
  if (fa !== fb) return false;
  return a === b || isWildcard(a) || isWildcard(b);
}

function rangesOverlap(a: [number, number], b: [number, number]): boolean {
  return a[0] <= b[1] && b[0] <= a[1];
}

/** The first port of `a` that `b` also covers. */
function firstShared(a: [number, number], b: [number, number]): number {
  return Math.max(a[0], b[0]);
}

/** Both bindings would catch the same packets: same protocol, overlapping host ports and addresses. */
export function bindingsOverlap(a: PortBinding, b: PortBinding): boolean {
  return a.proto === b.proto && ipsOverlap(a.hostIp, b.hostIp) && rangesOverlap(hostRange(a), hostRange(b));
}

interface OwnedBinding {
  owner: string;
  binding: PortBinding;
}

function ownedBindings(state: FirewallState): OwnedBinding[] {
  return state.endpoints.flatMap((e) => e.published.map((binding) => ({ owner: `endpoint ${e.endpointId}`, binding })));
}

/** Rejects with ConflictError naming the port when two bindings of the state share a host port. */
export function checkBindingConflicts(state: FirewallState): void {
  const all = ownedBindings(state);
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i];
      const b = all[j];
      if (!bindingsOverlap(a.binding, b.binding)) continue;
      const ra = hostRange(a.binding);
      const rb = hostRange(b.binding);
      throw new ConflictError(
        `host port ${a.binding.proto}/${firstShared(ra, rb)} is published twice: ` +
          `${a.owner} (${describeBinding(a.binding)}) and ${b.owner} (${describeBinding(b.binding)})`,
      );
    }
  }
}

/** Rejects with ConflictError naming the port when one of `bindings` is already bound by a host socket. */
export function checkListenerConflicts(bindings: PortBinding[], listeners: Listener[]): void {
  for (const b of bindings) {
    const r = hostRange(b);
    const hit = listeners.find((l) => l.proto === b.proto && l.port >= r[0] && l.port <= r[1] && ipsOverlap(b.hostIp, l.ip));
    if (hit) {
      const where = hit.ip.includes(':') ? `[${hit.ip}]:${hit.port}` : `${hit.ip}:${hit.port}`;
      throw new ConflictError(`host port ${b.proto}/${hit.port} is already in use by a socket listening on ${where}`, {
        hint: 'choose another host port or stop the program listening on it',
      });
    }
  }
}

/** Bindings of `next` that `prev` did not have (same endpoint, same binding). */
export function addedBindings(prev: FirewallState, next: FirewallState): PortBinding[] {
  const key = (owner: string, b: PortBinding) => `${owner}|${describeBinding(b)}`;
  const before = new Set(ownedBindings(prev).map((o) => key(o.owner, o.binding)));
  return ownedBindings(next)
    .filter((o) => !before.has(key(o.owner, o.binding)))
    .map((o) => o.binding);
}

/** Decodes a /proc/net address: IPv4 is one little-endian word, IPv6 four of them. */
function procAddress(hex: string): string {
  if (hex.length === 8) {
    return bigIntToIp(BigInt(`0x${hex.match(/../g)!.reverse().join('')}`), 4);
  }
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  return bigIntToIp(BigInt(`0x${words.join('')}`), 6);
}

/**
 * Parses /proc/net/{tcp,tcp6} (LISTEN sockets, state 0A) or /proc/net/{udp,udp6} (every bound socket, since UDP
 * has no listen state; connected ones, state 01, are clients and do not own the port).
 */
export function parseProcNet(text: string, proto: Proto): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const [addrHex, portHex] = f[1].split(':');
    const st = f[3].toUpperCase();
    if (proto === 'tcp' ? st !== '0A' : st === '01') continue;
    out.push({ proto, ip: procAddress(addrHex), port: parseInt(portHex, 16) });
  }
  return out;
}

/**
 * Turns requests into concrete bindings: a fixed host port is kept; hostPort 0 or a host range for a single
 * container port gets the first port that no binding of `state`, no earlier request and no listener uses.
 * Rejects with ExhaustedError naming the range when none is free.
 */
export function choosePorts(requests: PortRequest[], state: FirewallState, listeners: Listener[]): PortBinding[] {
  const taken: PortBinding[] = ownedBindings(state).map((o) => o.binding);
  const free = (b: PortBinding) => {
    try {
      checkListenerConflicts([b], listeners);
      return !taken.some((t) => bindingsOverlap(t, b));
    } catch {
      return false;
    }
  };
  return requests.map((r, i) => {
    const single = r.containerPortEnd === undefined || r.containerPortEnd === r.containerPort;
    const pick = r.hostPort === 0 || (single && r.hostPortEnd !== undefined && r.hostPortEnd !== r.hostPort);
    if (!pick) {
      const b = validatePortBinding(r as PortBinding, `port request ${i + 1}`);
      taken.push(b);
      return b;
    }
    if (!single) {
      throw new InvalidArgumentError(`port request ${i + 1}: a container port range needs a fixed host port range`);
    }
    const [lo, hi] = r.hostPort === 0 ? EPHEMERAL_RANGE : [r.hostPort, r.hostPortEnd!];
    for (let p = lo; p <= hi; p++) {
      const candidate: PortBinding = { proto: r.proto, hostPort: p, containerPort: r.containerPort };
      if (r.hostIp !== undefined) candidate.hostIp = r.hostIp;
      const b = validatePortBinding(candidate, `port request ${i + 1}`);
      if (free(b)) {
        taken.push(b);
        return b;
      }
    }
    throw new ExhaustedError(`no free host port for ${r.proto}/${r.containerPort} in ${lo}-${hi}`);
  });
}
