/** Small address helpers for the engine and drivers (parsing user input, "ADDR/LEN" strings, containment). */
import { BlockList, isIP } from 'node:net';
import { Address4, Address6 } from 'ip-address';
import { InvalidArgumentError } from '../core/errors';

export interface ParsedCidr {
  address: string;
  prefix: number;
  family: 4 | 6;
}

/** Parse "ADDR/LEN" (host bits may be set: an interface address). Rejects with InvalidArgumentError naming it. */
export function parseCidr(cidr: string, what = 'CIDR'): ParsedCidr {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr ?? '');
  const fam = m ? isIP(m[1]) : 0;
  const prefix = m ? Number(m[2]) : -1;
  if (!m || fam === 0 || prefix > (fam === 4 ? 32 : 128)) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(cidr)} is not a valid CIDR (expected e.g. 10.1.0.0/24 or fd00::/64)`);
  }
  return { address: m[1], prefix, family: fam as 4 | 6 };
}

/** The family of a bare IP address, or an InvalidArgumentError naming it. */
export function parseIp(ip: string, what = 'IP address'): { address: string; family: 4 | 6 } {
  const fam = isIP(ip ?? '');
  if (fam === 0) throw new InvalidArgumentError(`${what} ${JSON.stringify(ip)} is not a valid IPv4 or IPv6 address`);
  return { address: ip, family: fam as 4 | 6 };
}

/** The address part of "ADDR/LEN" (or the string itself when it has no prefix). */
export function addrOf(cidr: string): string {
  const i = cidr.indexOf('/');
  return i < 0 ? cidr : cidr.slice(0, i);
}

/** The prefix length of "ADDR/LEN". */
export function prefixOf(cidr: string): number {
  return Number(cidr.slice(cidr.indexOf('/') + 1));
}

/** True when `ip` lies inside subnet `cidr`. */
export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const fam = isIP(ip);
  if (fam !== c.family) return false;
  const list = new BlockList();
  const type = c.family === 4 ? 'ipv4' : 'ipv6';
  list.addSubnet(c.address, c.prefix, type);
  return list.check(ip, type);
}

/** True when two subnets share at least one address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const pa = parseCidr(a);
  const pb = parseCidr(b);
  if (pa.family !== pb.family) return false;
  return pa.prefix <= pb.prefix ? cidrContains(a, pb.address) : cidrContains(b, pa.address);
}

/** "ADDR" + the prefix length of `cidr`: how IPAM and Docker write interface addresses. */
export function withPrefix(address: string, cidr: string): string {
  return `${addrOf(address)}/${prefixOf(cidr)}`;
}

/** Canonical text of an IP ("fd00:0::1" -> "fd00::1"). */
export function canonicalIp(ip: string): string {
  return isIP(ip) === 4 ? new Address4(ip).correctForm() : new Address6(ip).correctForm();
}

/** The network address of "ADDR/LEN" ("10.0.0.7/24" -> "10.0.0.0"). */
export function networkAddressOf(cidr: string): string {
  const p = parseCidr(cidr);
  return p.family === 4 ? new Address4(cidr).startAddress().correctForm() : new Address6(cidr).startAddress().correctForm();
}
