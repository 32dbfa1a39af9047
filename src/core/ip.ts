/**
 * IPv4/IPv6 addresses and CIDRs, the one module that parses and formats them (ip-address and node:net underneath):
 * - strict values for IPAM (`parseAddress`, `parseCidr`: bigints, canonical networks, offsets, overlap);
 * - text helpers for user input and "ADDR/LEN" strings (`parseIp`, `parseCidrText`, `addrOf`, `cidrHas`...);
 * - bytes for netlink attributes (`ipToBytes`, `ipFromBytes`, `Prefix`).
 * Errors are InvalidArgumentError (InvalidCidrError for CIDRs IPAM rejects), naming the value and what is allowed.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import type * as IpAddressLib from 'ip-address';
import { InvalidArgumentError, InvalidCidrError } from './errors';

/** ip-address, loaded on first use (~15 ms): most commands parse no address the hand-written paths do not cover. */
let lib: typeof IpAddressLib | undefined;
function ipAddressLib(): typeof IpAddressLib {
  return (lib ??= require('ip-address') as typeof IpAddressLib);
}

export type IpFamily = 4 | 6;
export type Family = IpFamily;

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

// ---- strict values (IPAM) ----

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
    return { family: 6, value: new (ipAddressLib().Address6)(text).bigInt() };
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
  for (let i = 0; i < 8;) {
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
  return (
    outer.family === inner.family && outer.prefixLength <= inner.prefixLength && cidrContainsAddress(outer, { family: inner.family, value: inner.network })
  );
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

// ---- text: user input and "ADDR/LEN" strings ----

/** 4 or 6 for a plain IP address (no prefix, no zone), otherwise undefined. */
export function ipFamily(s: string): IpFamily | undefined {
  if (typeof s !== 'string' || s.includes('%')) return undefined; // zone ids have no meaning for container addresses
  if (isIPv4(s)) return 4;
  if (isIPv6(s)) return 6;
  return undefined;
}

/** A bare IP address and its family, or an InvalidArgumentError naming it. */
export function parseIp(ip: string, what = 'IP address'): { address: string; family: IpFamily } {
  const family = ipFamily(ip);
  if (family === undefined) throw new InvalidArgumentError(`${what} ${JSON.stringify(ip)} is not a valid IPv4 or IPv6 address`);
  return { address: ip, family };
}

export interface CidrText {
  address: string;
  prefix: number;
  family: IpFamily;
}

/** "ADDR/LEN" with LEN in 0..32 (v4) or 0..128 (v6), host bits allowed (an interface address); else undefined. */
export function tryParseCidr(cidr: string): CidrText | undefined {
  const m = typeof cidr === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(cidr) : null;
  const family = m ? ipFamily(m[1]) : undefined;
  if (!m || family === undefined || Number(m[2]) > familyBits(family)) return undefined;
  return { address: m[1], prefix: Number(m[2]), family };
}

/** As tryParseCidr, rejecting with an InvalidArgumentError naming the value. */
export function parseCidrText(cidr: string, what = 'CIDR'): CidrText {
  const c = tryParseCidr(cidr);
  if (!c) throw new InvalidArgumentError(`${what} ${JSON.stringify(cidr)} is not a valid CIDR (expected e.g. 10.1.0.0/24 or fd00::/64)`);
  return c;
}

/** The address as an unsigned integer (32 or 128 bits). Requires a valid IP. */
export function ipToBigInt(ip: string): bigint {
  if (isIPv4(ip)) return ip.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  return new (ipAddressLib().Address6)(ip).bigInt();
}

/** Canonical text of an address given as an integer. */
export function bigIntToIp(n: bigint, family: IpFamily): string {
  return formatAddress({ family, value: n });
}

function cidrOfText(c: CidrText): Cidr {
  return makeCidr(c.family, ipToBigInt(c.address), c.prefix);
}

/** True when no host bit is set: "10.1.0.0/16" yes, "10.1.0.1/16" no. */
export function isNetworkAddress(c: CidrText): boolean {
  return cidrOfText(c).network === ipToBigInt(c.address);
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

/** "ADDR" + the prefix length of `cidr`: how IPAM and Docker write interface addresses. */
export function withPrefix(address: string, cidr: string): string {
  return `${addrOf(address)}/${prefixOf(cidr)}`;
}

/** True when the bare address `ip` lies inside the network of "ADDR/LEN" `cidr` (false for a bad `ip`). */
export function cidrHas(cidr: string | CidrText, ip: string): boolean {
  const c = typeof cidr === 'string' ? parseCidrText(cidr) : cidr;
  if (ipFamily(ip) !== c.family) return false;
  return cidrContainsAddress(cidrOfText(c), { family: c.family, value: ipToBigInt(ip) });
}

/** True when two subnets ("ADDR/LEN") share at least one address. */
export function subnetsOverlap(a: string, b: string): boolean {
  const pa = parseCidrText(a);
  const pb = parseCidrText(b);
  return pa.family === pb.family && cidrsOverlap(cidrOfText(pa), cidrOfText(pb));
}

/** Canonical text of an IP ("fd00:0::1" -> "fd00::1"). */
export function canonicalIp(ip: string): string {
  return formatAddress({ family: isIP(ip) === 4 ? 4 : 6, value: ipToBigInt(ip) });
}

/** The network address of "ADDR/LEN" ("10.0.0.7/24" -> "10.0.0.0"). */
export function networkAddressOf(cidr: string): string {
  const c = cidrOfText(parseCidrText(cidr));
  return formatAddress({ family: c.family, value: c.network });
}

export interface Subnet {
  family: IpFamily;
  /** canonical network CIDR, host bits cleared */
  cidr: string;
}

/** "ADDR/LEN" to its canonical subnet (host bits cleared). */
export function parseSubnet(cidr: string, what = 'subnet'): Subnet {
  const c = cidrOfText(parseCidrText(cidr, what));
  return { family: c.family, cidr: formatCidr(c) };
}

// ---- bytes: netlink attributes ----

/** 4 or 16 bytes of an address ("10.0.0.1", "fd00::1"; an IPv6 zone is dropped); InvalidArgumentError naming `what`. */
export function ipToBytes(text: string, what = 'IP address'): { family: IpFamily; bytes: Buffer } {
  const plain = typeof text === 'string' ? text.split('%')[0] : text;
  const family = ipFamily(plain);
  if (family === undefined) throw new InvalidArgumentError(`${what} ${JSON.stringify(text)} is not an IPv4 or IPv6 address`);
  const hex = ipToBigInt(plain)
    .toString(16)
    .padStart(family === 4 ? 8 : 32, '0');
  return { family, bytes: Buffer.from(hex, 'hex') };
}

/** Canonical text of 4 or 16 address bytes (RFC 5952 for IPv6, like iproute2 prints). */
export function ipFromBytes(bytes: Buffer | Uint8Array): string {
  const value = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  return formatAddress({ family: bytes.length === 4 ? 4 : 6, value });
}

/** A prefix as netlink carries it. */
export interface Prefix {
  family: IpFamily;
  /** 4 or 16 bytes, the address as written (host bits kept). */
  bytes: Buffer;
  len: number;
}

/** Parse "10.0.0.1/24" (a bare address means /32 or /128). */
export function parsePrefix(text: string, what = 'CIDR'): Prefix {
  const slash = text.indexOf('/');
  const ip = ipToBytes(slash < 0 ? text : text.slice(0, slash), what);
  const max = familyBits(ip.family);
  const lenText = slash < 0 ? String(max) : text.slice(slash + 1);
  const len = Number(lenText);
  if (!/^\d+$/.test(lenText) || len > max) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(text)} has prefix length ${JSON.stringify(lenText)}; allowed 0..${max}`);
  }
  return { family: ip.family, bytes: ip.bytes, len };
}

/** The prefix with host bits cleared. */
export function networkOf(p: Prefix): Prefix {
  const bytes = Buffer.from(p.bytes);
  for (let bit = p.len; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { family: p.family, bytes, len: p.len };
}

export function formatPrefix(p: Prefix): string {
  return `${ipFromBytes(p.bytes)}/${p.len}`;
}

/** Route destinations as callers see them: "default" for /0, else the network CIDR. */
export function formatDst(p: Prefix): string {
  return p.len === 0 ? 'default' : formatPrefix(networkOf(p));
}

/** Parse a route destination: "default" (needs family, 4 if absent) or a CIDR; host bits are cleared. */
export function parseDst(dst: string, family?: IpFamily): Prefix {
  if (dst === 'default') {
    const f = family ?? 4;
    return { family: f, bytes: Buffer.alloc(f === 4 ? 4 : 16), len: 0 };
  }
  const p = networkOf(parsePrefix(dst, 'route destination'));
  if (family !== undefined && family !== p.family) {
    throw new InvalidArgumentError(`route destination ${dst} is IPv${p.family} but family ${family} was given`);
  }
  return p;
}

/** Does `p` contain address `ip` (same family)? */
export function prefixContains(p: Prefix, ip: Buffer): boolean {
  if (ip.length !== p.bytes.length) return false;
  return networkOf({ ...p, bytes: ip }).bytes.equals(networkOf(p).bytes);
}
