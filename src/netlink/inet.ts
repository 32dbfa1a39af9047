/** IP address and prefix handling for the kernel layer: bytes for netlink attributes, canonical text for callers. */
import { isIPv4, isIPv6 } from 'node:net';
import { InvalidArgumentError } from '../core/errors';

export interface Prefix {
  family: 4 | 6;
  /** 4 or 16 bytes, the address as written (host bits kept). */
  bytes: Buffer;
  len: number;
}

/** Parse "10.0.0.1" or "fd00::1" to bytes; throws InvalidArgumentError naming `what`. */
export function parseIp(text: string, what = 'IP address'): { family: 4 | 6; bytes: Buffer } {
  if (isIPv4(text)) return { family: 4, bytes: Buffer.from(text.split('.').map(Number)) };
  if (isIPv6(text)) return { family: 6, bytes: parseIpv6(text) };
  throw new InvalidArgumentError(`${what} ${JSON.stringify(text)} is not an IPv4 or IPv6 address`);
}

function parseIpv6(text: string): Buffer {
  let s = text.split('%')[0];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    // embedded IPv4 (::ffff:1.2.3.4): rewrite as two hex groups
    const v4 = s.slice(lastColon + 1).split('.').map(Number);
    s = `${s.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, undefined];
  const hs = head ? head.split(':').filter((g) => g !== '').map((g) => parseInt(g, 16)) : [];
  const rs = rest !== undefined && rest !== '' ? rest.split(':').map((g) => parseInt(g, 16)) : [];
  const fill = 8 - hs.length - rs.length;
  const groups = [...hs, ...(rest !== undefined ? new Array(fill).fill(0) : []), ...rs];
  const buf = Buffer.alloc(16);
  groups.slice(0, 8).forEach((g, i) => buf.writeUInt16BE(g, i * 2));
  return buf;
}

/** Canonical text (RFC 5952 for IPv6, like iproute2 prints). */
export function formatIp(bytes: Buffer | Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((bytes[i] << 8) | bytes[i + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Parse "10.0.0.1/24" (a bare address means /32 or /128). */
export function parsePrefix(text: string, what = 'CIDR'): Prefix {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash), what);
  const max = ip.family === 4 ? 32 : 128;
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
  return `${formatIp(p.bytes)}/${p.len}`;
}

/** Route destinations as callers see them: "default" for /0, else the network CIDR. */
export function formatDst(p: Prefix): string {
  return p.len === 0 ? 'default' : formatPrefix(networkOf(p));
}

/** Parse a route destination: "default" (needs family, 4 if absent) or a CIDR; host bits are cleared. */
export function parseDst(dst: string, family?: 4 | 6): Prefix {
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

/** Parse "aa:bb:cc:dd:ee:ff"; throws InvalidArgumentError. */
export function parseMac(mac: string): Buffer {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) {
    throw new InvalidArgumentError(`MAC address ${JSON.stringify(mac)} is not of the form aa:bb:cc:dd:ee:ff`);
  }
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

export function formatMac(bytes: Buffer | Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}
