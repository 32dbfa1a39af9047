/**
 * Errors of the kernel layer. The real handle (errno.ts translates errno once) and the fake in
 * test/fakes/fake-netlink.ts throw exactly these classes, so callers can rely on `instanceof` and `kind`.
 */
import { CnmError } from '../core/errors';

/** Where an object lives, for messages: the named netns, or the netns cnm runs in. */
export function nsLabel(netns: string | null | undefined): string {
  return netns ? `netns ${JSON.stringify(netns)}` : 'the host netns';
}

type Options = { cause?: unknown };
type Kind = 'not-found' | 'conflict';

/** An error about a link (by name) in a netns. */
abstract class LinkError extends CnmError {
  readonly link: string;
  readonly netns: string | null;
  constructor(kind: Kind, code: `CNM_${string}`, link: string, netns: string | null, message: string, options?: Options & { hint?: string }) {
    super(kind, code, message, options);
    this.link = link;
    this.netns = netns;
  }
}

/** ENODEV/ENOENT on a link: no interface by that name (or index) in that netns. */
export class LinkNotFoundError extends LinkError {
  constructor(link: string, netns: string | null = null, options?: Options) {
    super('not-found', 'CNM_LINK_NOT_FOUND', link, netns, `link ${JSON.stringify(link)} not found in ${nsLabel(netns)}`, options);
  }
}

/** EEXIST on a link: the name is taken in that netns. */
export class LinkExistsError extends LinkError {
  constructor(link: string, netns: string | null = null, options?: Options) {
    super('conflict', 'CNM_LINK_EXISTS', link, netns, `link ${JSON.stringify(link)} already exists in ${nsLabel(netns)}`, {
      ...options,
      hint: 'pick another interface name or delete the existing link',
    });
  }
}

/** An error about a named netns under /run/netns. */
abstract class NetnsError extends CnmError {
  readonly netnsName: string;
  constructor(kind: Kind, code: `CNM_${string}`, netnsName: string, state: string, options?: Options) {
    super(kind, code, `netns ${JSON.stringify(netnsName)} ${state} in /run/netns`, options);
    this.netnsName = netnsName;
  }
}

/** A named netns already exists under /run/netns. */
export class NetnsExistsError extends NetnsError {
  constructor(netnsName: string, options?: Options) {
    super('conflict', 'CNM_NETNS_EXISTS', netnsName, 'already exists', options);
  }
}

/** No netns by that name under /run/netns. */
export class NetnsNotFoundError extends NetnsError {
  constructor(netnsName: string, options?: Options) {
    super('not-found', 'CNM_NETNS_NOT_FOUND', netnsName, 'not found', options);
  }
}

/** An error about an entry of a link: an address, a forwarding or a neighbor entry. */
abstract class LinkEntryError extends LinkError {
  /** the address (CIDR), MAC or IP the entry is keyed by */
  readonly entry: string;
  constructor(kind: Kind, code: `CNM_${string}`, entry: string, link: string, netns: string | null, what: string, options?: Options) {
    super(kind, code, link, netns, `${what} link ${JSON.stringify(link)} in ${nsLabel(netns)}`, options);
    this.entry = entry;
  }
}

/** EEXIST on an address: the link already has it. */
export class AddrExistsError extends LinkEntryError {
  constructor(cidr: string, link: string, netns: string | null = null, options?: Options) {
    super('conflict', 'CNM_ADDR_EXISTS', cidr, link, netns, `address ${cidr} already on`, options);
  }
}

/** EADDRNOTAVAIL on delete: the link does not have that address. */
export class AddrNotFoundError extends LinkEntryError {
  constructor(cidr: string, link: string, netns: string | null = null, options?: Options) {
    super('not-found', 'CNM_ADDR_NOT_FOUND', cidr, link, netns, `address ${cidr} not on`, options);
  }
}

/** ENOENT on `bridge fdb del`: `dev` has no entry for that MAC. */
export class FdbNotFoundError extends LinkEntryError {
  constructor(mac: string, link: string, netns: string | null = null, options?: Options) {
    super('not-found', 'CNM_FDB_NOT_FOUND', mac, link, netns, `no forwarding entry for ${mac} on`, options);
  }
}

/** ENOENT on `ip neigh del`: no neighbor entry for that address on `dev`. */
export class NeighNotFoundError extends LinkEntryError {
  constructor(ip: string, link: string, netns: string | null = null, options?: Options) {
    super('not-found', 'CNM_NEIGH_NOT_FOUND', ip, link, netns, `no neighbor entry for ${ip} on`, options);
  }
}

/** An error about the route to `dst` in a netns. */
abstract class RouteError extends CnmError {
  readonly dst: string;
  readonly netns: string | null;
  constructor(kind: Kind, code: `CNM_${string}`, dst: string, netns: string | null, state: string, options?: Options & { hint?: string }) {
    super(kind, code, `route to ${dst} ${state}`, options);
    this.dst = dst;
    this.netns = netns;
  }
}

/** EEXIST on a route: a route to that destination is already in the table. */
export class RouteExistsError extends RouteError {
  constructor(dst: string, netns: string | null = null, options?: Options) {
    super('conflict', 'CNM_ROUTE_EXISTS', dst, netns, `already exists in ${nsLabel(netns)}`, options);
  }
}

/** ESRCH on delete: no such route. */
export class RouteNotFoundError extends RouteError {
  constructor(dst: string, netns: string | null = null, options?: Options) {
    super('not-found', 'CNM_ROUTE_NOT_FOUND', dst, netns, `not found in ${nsLabel(netns)}`, options);
  }
}

/**
 * ENETDOWN / ENETUNREACH / EHOSTUNREACH on a route: its device is down or its gateway is not on a
 * connected subnet. The request is valid in itself; the netns's current state refuses it.
 */
export class RouteUnreachableError extends RouteError {
  constructor(dst: string, reason: string, netns: string | null = null, options?: Options) {
    super('conflict', 'CNM_ROUTE_UNREACHABLE', dst, netns, `refused in ${nsLabel(netns)}: ${reason}`, {
      ...options,
      hint: 'bring the device up and add an address whose subnet contains the gateway first',
    });
  }
}

/** EBUSY: the device is in use (e.g. enslaved elsewhere, or a mount is busy). */
export class DeviceBusyError extends CnmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', 'CNM_DEVICE_BUSY', message, options);
  }
}
