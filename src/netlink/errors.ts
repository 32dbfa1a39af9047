/**
 * Errors of the kernel layer. The real handle (errno.ts translates errno once) and the fake in
 * test/fakes/fake-netlink.ts throw exactly these classes, so callers can rely on `instanceof` and `kind`.
 */
import { CnmError } from '../core/errors';

/** Where an object lives, for messages: the named netns, or the netns cnm runs in. */
export function nsLabel(netns: string | null | undefined): string {
  return netns ? `netns ${JSON.stringify(netns)}` : 'the host netns';
}

/** ENODEV/ENOENT on a link: no interface by that name (or index) in that netns. */
export class LinkNotFoundError extends CnmError {
  constructor(readonly link: string, readonly netns: string | null = null, options?: { cause?: unknown }) {
    super('not-found', 'CNM_LINK_NOT_FOUND', `link ${JSON.stringify(link)} not found in ${nsLabel(netns)}`, options);
  }
}

/** EEXIST on a link: the name is taken in that netns. */
export class LinkExistsError extends CnmError {
  constructor(readonly link: string, readonly netns: string | null = null, options?: { cause?: unknown }) {
    super('conflict', 'CNM_LINK_EXISTS', `link ${JSON.stringify(link)} already exists in ${nsLabel(netns)}`, {
      ...options,
      hint: 'pick another interface name or delete the existing link',
    });
  }
}

/** A named netns already exists under /run/netns. */
export class NetnsExistsError extends CnmError {
  constructor(readonly netnsName: string, options?: { cause?: unknown }) {
    super('conflict', 'CNM_NETNS_EXISTS', `netns ${JSON.stringify(netnsName)} already exists in /run/netns`, options);
  }
}

/** No netns by that name under /run/netns. */
export class NetnsNotFoundError extends CnmError {
  constructor(readonly netnsName: string, options?: { cause?: unknown }) {
    super('not-found', 'CNM_NETNS_NOT_FOUND', `netns ${JSON.stringify(netnsName)} not found in /run/netns`, options);
  }
}

/** EEXIST on an address: the link already has it. */
export class AddrExistsError extends CnmError {
  constructor(readonly cidr: string, readonly link: string, readonly netns: string | null = null, options?: { cause?: unknown }) {
    super('conflict', 'CNM_ADDR_EXISTS', `address ${cidr} already on link ${JSON.stringify(link)} in ${nsLabel(netns)}`, options);
  }
}

/** EADDRNOTAVAIL on delete: the link does not have that address. */
export class AddrNotFoundError extends CnmError {
  constructor(readonly cidr: string, readonly link: string, readonly netns: string | null = null, options?: { cause?: unknown }) {
    super('not-found', 'CNM_ADDR_NOT_FOUND', `address ${cidr} not on link ${JSON.stringify(link)} in ${nsLabel(netns)}`, options);
  }
}

/** EEXIST on a route: a route to that destination is already in the table. */
export class RouteExistsError extends CnmError {
  constructor(readonly dst: string, readonly netns: string | null = null, options?: { cause?: unknown }) {
    super('conflict', 'CNM_ROUTE_EXISTS', `route to ${dst} already exists in ${nsLabel(netns)}`, options);
  }
}

/** ESRCH on delete: no such route. */
export class RouteNotFoundError extends CnmError {
  constructor(readonly dst: string, readonly netns: string | null = null, options?: { cause?: unknown }) {
    super('not-found', 'CNM_ROUTE_NOT_FOUND', `route to ${dst} not found in ${nsLabel(netns)}`, options);
  }
}

/**
 * ENETDOWN / ENETUNREACH / EHOSTUNREACH on a route: its device is down or its gateway is not on a
 * connected subnet. The request is valid in itself; the netns's current state refuses it.
 */
export class RouteUnreachableError extends CnmError {
  constructor(readonly dst: string, reason: string, readonly netns: string | null = null, options?: { cause?: unknown }) {
    super('conflict', 'CNM_ROUTE_UNREACHABLE', `route to ${dst} refused in ${nsLabel(netns)}: ${reason}`, {
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

/** ENOENT on `bridge fdb del`: `dev` has no entry for that MAC. */
export class FdbNotFoundError extends CnmError {
  constructor(readonly mac: string, readonly link: string, readonly netns: string | null = null, options?: { cause?: unknown }) {
    super('not-found', 'CNM_FDB_NOT_FOUND', `no forwarding entry for ${mac} on link ${JSON.stringify(link)} in ${nsLabel(netns)}`, options);
  }
}

/** ENOENT on `ip neigh del`: no neighbor entry for that address on `dev`. */
export class NeighNotFoundError extends CnmError {
  constructor(readonly ip: string, readonly link: string, readonly netns: string | null = null, options?: { cause?: unknown }) {
    super('not-found', 'CNM_NEIGH_NOT_FOUND', `no neighbor entry for ${ip} on link ${JSON.stringify(link)} in ${nsLabel(netns)}`, options);
  }
}
