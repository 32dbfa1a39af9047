/**
 * A container's /etc/hosts, /etc/hostname and /etc/resolv.conf, made in its own dir (`<dir>/etc`) and bind-mounted
 * by cnm-init: the layers stay untouched. Built as Docker builds them:
 * - hosts: the localhost lines, the --add-host lines, then each of the container's addresses with its host name;
 * - resolv.conf: cnm's DNS (the daemon answering on the network's gateway, which forwards to --dns) when one serves
 *   the first network, else
 *   the host's nameservers without loopback ones (a loopback resolver of the host is unreachable from the
 *   container's netns; when none is left, Docker's defaults), the host's search and options; --dns, --dns-search,
 *   --dns-option replace those parts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { addrOf, parseIp } from '../core/ip';
import type { EtcOptions } from './options';

export const HOST_RESOLV_CONF = '/etc/resolv.conf';
/** systemd-resolved's list of the real upstreams, used when the host's resolv.conf names only its stub */
const RESOLVED_UPSTREAMS = '/run/systemd/resolve/resolv.conf';
/** Docker's fallback when the host has no usable nameserver */
export const DEFAULT_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const [key, ...rest] = raw
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.search = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

function isLoopback(ip: string): boolean {
  try {
    const { family } = parseIp(ip.replace(/%.*$/, ''));
    return family === 4 ? ip.startsWith('127.') : ip === '::1';
  } catch {
    return true; // not an address the container could use either
  }
}

export function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The host's resolver configuration as a container can use it. */
export function hostResolvConf(read: (file: string) => string | undefined = readIfPresent): ResolvConf {
  let conf = parseResolvConf(read(HOST_RESOLV_CONF) ?? '');
  if (conf.nameservers.length > 0 && conf.nameservers.every((n) => n === '127.0.0.53')) {
    const upstream = read(RESOLVED_UPSTREAMS);
    if (upstream !== undefined) conf = { ...parseResolvConf(upstream), search: conf.search, options: conf.options };
  }
  const usable = conf.nameservers.filter((n) => !isLoopback(n));
  return { ...conf, nameservers: usable.length > 0 ? usable : DEFAULT_NAMESERVERS };
}

/** With cnm's DNS, it is the only nameserver: it forwards to the container's --dns servers itself (as Docker does). */
export function resolvConfText(host: ResolvConf, etc: EtcOptions, cnmDns: string | undefined): string {
  const nameservers = cnmDns !== undefined ? [cnmDns] : etc.dns.length > 0 ? etc.dns : host.nameservers;
  const search = etc.dnsSearch.length > 0 ? etc.dnsSearch.filter((d) => d !== '.') : host.search;
  const options = etc.dnsOptions.length > 0 ? etc.dnsOptions : host.options;
  const lines = nameservers.map((n) => `nameserver ${n}`);
  if (search.length > 0) lines.push(`search ${search.join(' ')}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

const LOCALHOST_LINES = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/** `addresses` are "ADDR/LEN" or "ADDR"; `names` the host name first (then the container name when it differs). */
export function hostsText(addresses: string[], names: string[], extra: [string, string][]): string {
  const own = [...new Set(names)].join(' ');
  const lines = [...LOCALHOST_LINES, ...extra.map(([n, ip]) => `${ip}\t${n}`), ...addresses.map((a) => `${addrOf(a)}\t${own}`)];
  return `${lines.join('\n')}\n`;
}

export interface EtcFiles {
  hosts: string;
  hostname: string;
  resolvConf: string;
}

/**
 * Write the three files into `dir` (made if missing). Rewritten in place, not renamed: a running container has the
 * files' inodes bind-mounted, so only an in-place write reaches it (as Docker updates /etc/hosts on connect).
 */
export function writeEtcFiles(dir: string, files: Partial<EtcFiles>): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const names: [keyof EtcFiles, string][] = [
    ['hosts', 'hosts'],
    ['hostname', 'hostname'],
    ['resolvConf', 'resolv.conf'],
  ];
  for (const [key, file] of names) {
    const text = files[key];
    if (text !== undefined) fs.writeFileSync(path.join(dir, file), text, { mode: 0o644 });
  }
}
