/** Address syntax checks for request validation: IPs, CIDRs and MACs as dockerd sends them. */
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

/** 4 or 6 for a plain IP address (no prefix, no zone), otherwise undefined. */
export function ipFamily(s: string): Family | undefined {
  if (s.includes('%')) return undefined; // zone ids have no meaning for container addresses
  if (isIPv4(s)) return 4;
  if (isIPv6(s)) return 6;
  return undefined;
}

export interface ParsedCidr {
  ip: string;
  prefix: number;
  family: Family;
}

/** Parses "ADDR/LEN" with LEN in 0..32 (v4) or 0..128 (v6); host bits may be set. */
export function parseCidr(s: string): ParsedCidr | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = s.slice(0, slash);
  const len = s.slice(slash + 1);
  const family = ipFamily(ip);
  if (family === undefined || !/^\d{1,3}$/.test(len)) return undefined;
  const prefix = Number(len);
  if (prefix > (family === 4 ? 32 : 128)) return undefined;
  return { ip, prefix, family };
}

/** The address as an unsigned integer (32 or 128 bits). Requires a valid IP. */
export function ipToBigInt(ip: string): bigint {
  if (isIPv4(ip)) return ip.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    // embedded IPv4 (::ffff:1.2.3.4): rewrite the last 32 bits as two hex groups
    const v4 = ipToBigInt(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const toGroups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const headGroups = toGroups(head);
  const restGroups = rest === undefined ? [] : toGroups(rest);
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...new Array<number>(rest === undefined ? 0 : missing).fill(0), ...restGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** True when no host bit is set: "10.1.0.0/16" yes, "10.1.0.1/16" no. */
export function isNetworkAddress(c: ParsedCidr): boolean {
  const bits = c.family === 4 ? 32 : 128;
  const hostMask = (1n << BigInt(bits - c.prefix)) - 1n;
  return (ipToBigInt(c.ip) & hostMask) === 0n;
}

/** True when `ip` (plain address) lies inside the network of `c`. */
export function cidrContains(c: ParsedCidr, ip: string): boolean {
  if (ipFamily(ip) !== c.family) return false;
  const bits = BigInt(c.family === 4 ? 32 : 128);
  const shift = bits - BigInt(c.prefix);
  return ipToBigInt(ip) >> shift === ipToBigInt(c.ip) >> shift;
}

/** Six colon-separated hex octets, as Go's net.HardwareAddr.String() prints them. */
export function isMacAddress(s: string): boolean {
  return /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s);
}
