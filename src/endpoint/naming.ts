/** Deterministic kernel names and MACs for endpoints, so gc can match a veth to its endpoint id. */
import { ipFamily } from '../core/ip';
import { InvalidArgumentError } from '../core/errors';

/** Prefix of every host-side veth cnm creates ("vcnm" + 11 hex chars of the endpoint id: 15 bytes). */
export const HOST_VETH_PREFIX = 'vcnm';
/** Prefix of the temporary peer name used on the Docker path (Docker moves and renames it). */
export const PEER_VETH_PREFIX = 'tcnm';
/** IFLA_IFALIAS prefix marking an endpoint veth made by cnm. */
export const ENDPOINT_ALIAS_PREFIX = 'cnm:ep:';

function idPart(endpointId: string): string {
  const hex = endpointId.toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length < 11) throw new InvalidArgumentError(`endpoint id ${JSON.stringify(endpointId)} needs at least 11 hex digits`);
  return hex.slice(0, 11);
}

export function hostVethName(endpointId: string): string {
  return HOST_VETH_PREFIX + idPart(endpointId);
}

export function peerVethName(endpointId: string): string {
  return PEER_VETH_PREFIX + idPart(endpointId);
}

/**
 * "cnm:ep:<instance>:<endpoint id>". The instance names the store (state dir) that owns the veth, so `cnm gc`
 * of one state dir never takes another state dir's (or another host daemon's) objects for orphans.
 */
export function endpointAlias(endpointId: string, instance: string): string {
  return `${ENDPOINT_ALIAS_PREFIX}${instance}:${endpointId}`;
}

/** The endpoint id in a veth alias of this instance, or undefined for links this instance did not mark. */
export function endpointIdFromAlias(alias: string | undefined, instance: string): string | undefined {
  const prefix = `${ENDPOINT_ALIAS_PREFIX}${instance}:`;
  return alias?.startsWith(prefix) ? alias.slice(prefix.length) : undefined;
}

/** Docker's bridge scheme: 02:42 followed by the four bytes of the IPv4 address. */
export function macFromIPv4(ip: string): string {
  if (ipFamily(ip) !== 4) throw new InvalidArgumentError(`cannot derive a MAC from ${JSON.stringify(ip)}: not an IPv4 address`);
  const bytes = ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'));
  return ['02', '42', ...bytes].join(':');
}

/** A random locally administered unicast MAC (used when there is no IPv4 address to derive one from). */
export function randomMac(randomBytes: (n: number) => Buffer): string {
  const b = randomBytes(4);
  return ['02', '42', ...[...b].map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/** Normalize a user MAC ("AA-BB-..." or "aa:bb:...") and reject multicast or malformed ones, naming the value. */
export function validateMac(mac: string): string {
  const norm = (mac ?? '').toLowerCase().replace(/-/g, ':');
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(norm)) {
    throw new InvalidArgumentError(`MAC address ${JSON.stringify(mac)} is not valid (expected six hex bytes like 02:42:0a:00:00:02)`);
  }
  if (parseInt(norm.slice(0, 2), 16) & 1) {
    throw new InvalidArgumentError(`MAC address ${JSON.stringify(mac)} is a multicast address; use a unicast one (first byte even)`);
  }
  if (norm === '00:00:00:00:00:00') throw new InvalidArgumentError(`MAC address ${JSON.stringify(mac)} is all zeros`);
  return norm;
}
