/** IPv4/IPv6 addresses and CIDRs as bigints: parsing, canonical text, containment, overlap and offsets. */

import { Address6 } from 'ip-address';
import { InvalidCidrError } from './errors';

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** A network in canonical form: `network` has no host bits set. */
export interface Cidr {
  readonly family: IpFamily;
  readonly network: bigint;
  readonly prefixLength: number;
}

export function familyBits(family: IpFamily): 32 | 128 {
  return family === 4 ? 32 : 128;
}

const V4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const PREFIX = /^(0|[1-9]\d{0,2})$/;

/** Parses a plain address ("10.0.0.1", "2001:db8::1"); `what` names the value in the error ("gateway", …). */
export function parseAddress(text: string, what = 'address'): IpAddress {
  const bad = (why: string) => new InvalidCidrError(String(text), `${what} ${JSON.stringify(text)}: ${why}`);
  if (typeof text !== 'string' || text.trim() !== text || text === '') throw bad('expected an IPv4 or IPv6 address');
  const m = V4.exec(text);
  if (m) {
    const octets = m.slice(1).map(Number);
    if (octets.some((o) => o > 255)) throw bad('each IPv4 octet must be 0-255');
    return { family: 4, value: octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n) };
  }
  if (!text.includes(':')) throw bad('expected an IPv4 address like 10.0.0.1 (no leading zeros) or an IPv6 address');
  if (text.includes('%')) throw bad('IPv6 zone indexes are not allowed');
  if (text.includes('/')) throw bad('expected an address without a prefix length');
  try {
    return { family: 6, value: new Address6(text).bigInt() };
  } catch {
    throw bad('not a valid IPv6 address');
  }
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run of 2+ groups as "::"). */
export function formatAddress(a: IpAddress): string {
  if (a.family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((a.value >> s) & 255n)).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((a.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function splitCidr(text: string, what: string): { addr: IpAddress; prefixLength: number } {
  if (typeof text !== 'string' || !text.includes('/')) {
    throw new InvalidCidrError(String(text), `${what} ${JSON.stringify(text)}: expected a CIDR like 10.1.0.0/16 or fd00::/64`);
  }
  const slash = text.lastIndexOf('/');
  const addr = parseAddress(text.slice(0, slash), what);
  const p = text.slice(slash + 1);
  const bits = familyBits(addr.family);
  if (!PREFIX.test(p) || Number(p) > bits) {
    throw new InvalidCidrError(text, `${what} ${JSON.stringify(text)}: prefix length must be 0-${bits}`);
  }
  return { addr, prefixLength: Number(p) };
}

/**
 * Parses a network CIDR and rejects host bits ("10.1.0.5/16"), naming the canonical network in the error,
 * because a user who typed it may have meant either that network or a different prefix length.
 */
export function parseCidr(text: string, what = 'subnet'): Cidr {
  const { addr, prefixLength } = splitCidr(text, what);
  const c = makeCidr(addr.family, addr.value, prefixLength);
  if (c.network !== addr.value) {
    throw new InvalidCidrError(text, `${what} ${JSON.stringify(text)}: host bits are set`, formatCidr(c));
  }
  return c;
}

/** Parses "ADDR/LEN" as the network it lies in (host addresses like "192.168.1.7/24" are fine here). */
export function parseCidrLoose(text: string, what = 'network'): Cidr {
  const { addr, prefixLength } = splitCidr(text, what);
  return makeCidr(addr.family, addr.value, prefixLength);
}

/** The network of prefix length `prefixLength` that contains `value`. */
export function makeCidr(family: IpFamily, value: bigint, prefixLength: number): Cidr {
  const hostBits = BigInt(familyBits(family) - prefixLength);
  return { family, network: (value >> hostBits) << hostBits, prefixLength };
}

export function formatCidr(c: Cidr): string {
  return `${formatAddress({ family: c.family, value: c.network })}/${c.prefixLength}`;
}

/** Number of addresses in the CIDR (2^hostbits). */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(familyBits(c.family) - c.prefixLength);
}

/** The highest address of the CIDR (the IPv4 broadcast address). */
export function cidrLast(c: Cidr): bigint {
  return c.network + cidrSize(c) - 1n;
}

export function cidrContainsAddress(c: Cidr, a: IpAddress): boolean {
  return c.family === a.family && a.value >= c.network && a.value <= cidrLast(c);
}

/** True when `inner` lies entirely inside `outer` (a CIDR contains itself). */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.prefixLength <= inner.prefixLength && cidrContainsAddress(outer, { family: inner.family, value: inner.network });
}

/** CIDRs either nest or are disjoint, so they overlap exactly when one contains the other. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** The n-th address of the CIDR (0 = network address). */
export function nthAddress(c: Cidr, n: bigint): IpAddress {
  if (n < 0n || n >= cidrSize(c)) {
    throw new RangeError(`offset ${n} is outside ${formatCidr(c)} (size ${cidrSize(c)})`);
  }
  return { family: c.family, value: c.network + n };
}

/**
 * The addresses of `c` that may be handed out, as Docker's allocator reserves them: IPv4 loses the network and
 * broadcast addresses except on /31 and /32 (RFC 3021 point-to-point); IPv6 loses the subnet-router anycast
 * (network) address except on /127 and /128 (RFC 6164).
 */
export function usableRange(c: Cidr): { first: bigint; last: bigint } {
  const hostBits = familyBits(c.family) - c.prefixLength;
  if (hostBits <= 1) return { first: c.network, last: cidrLast(c) };
  return { first: c.network + 1n, last: c.family === 4 ? cidrLast(c) - 1n : cidrLast(c) };
}

/** Fixed-width hex of an address: its text sorts like its number (store keys). */
export function addressHex(a: IpAddress): string {
  return a.value.toString(16).padStart(a.family === 4 ? 8 : 32, '0');
}
