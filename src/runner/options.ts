/**
 * Validation of `cnm run` options into a RunSpec. Pure (no file system): layer paths are checked later, by
 * rootfs.ts, because they need the disk; everything here fails before anything is created.
 */
import path from 'node:path';
import { InvalidArgumentError } from '../core/errors';
import { parseIp } from '../core/ip';
import { validateObjectName } from '../core/names';
import { parsePublishSpec } from '../engine/publish-spec';
import type { PortRequest } from '../firewall';

/** What `cnm run` asked for, as commander hands it over (strings, repeatable flags as arrays). */
export interface RawRunOptions {
  name?: string;
  network?: string[];
  ip?: string;
  publish?: string[];
  hostname?: string;
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  layer?: string[];
  rootfsTar?: string;
  env?: string[];
  workdir?: string;
  rm?: boolean;
  detach?: boolean;
  keep?: boolean;
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
  networkAlias?: string[];
  image?: string;
  entrypoint?: string;
  user?: string;
}

/** The default network, made on first use like docker0: bridge device and network both named cnm0. */
export const DEFAULT_NETWORK = 'cnm0';

/**
 * Docker's --net: cnm networks (none given: the default network), `none` (only lo), `host` (the host's netns), or
 * `container:NAME` (another running container's netns).
 */
export type NetworkMode =
  { kind: 'networks'; networks: string[]; isDefault: boolean } | { kind: 'none' } | { kind: 'host' } | { kind: 'container'; container: string };

/** What goes into the container's /etc/resolv.conf and /etc/hosts beyond what cnm derives. */
export interface EtcOptions {
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** [name, ip] in the order given */
  extraHosts: [string, string][];
}

export interface RunSpec {
  name: string;
  netMode: NetworkMode;
  /** the cnm networks to connect, in order (empty unless netMode is 'networks') */
  networks: string[];
  /** extra DNS names of the container on each of its networks */
  aliases: string[];
  etc: EtcOptions;
  ip?: string;
  /** published on the first --network's endpoint (same syntax as `cnm connect --publish`) */
  publish: PortRequest[];
  hostname: string;
  limits: CgroupLimits;
  /** absolute paths, lowest first */
  layers: string[];
  rootfsTar?: string;
  /** a `docker save` archive or OCI image layout; its config gives the defaults of env, command, workdir, user */
  image?: string;
  entrypoint?: string[];
  user?: string;
  env: string[];
  /** undefined: the image's WorkingDir, else / */
  workdir?: string;
  autoRemove: boolean;
  detach: boolean;
  /** keep the upper dir after the container exits (removed by `cnm rm`) */
  keep: boolean;
  /** may be empty with an image (its Entrypoint and Cmd then) */
  command: string[];
}

export interface CgroupLimits {
  memoryBytes?: number;
  /** CPUs worth of time per period, e.g. 0.5 */
  cpus?: number;
  pidsLimit?: number;
}

/** Docker's floor: a smaller limit kills the runtime itself before the command starts. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
/** The sandbox is named `ctr-<name>` and sandbox names are at most 64 characters. */
export const MAX_CONTAINER_NAME = 60;
const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "BYTES", "64m", "1g" (binary units, like Docker) into bytes. */
export function parseMemory(value: string): number {
  const m = /^(\d+(?:\.\d+)?)([bkmgt]?)b?$/i.exec(value.trim());
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]) : NaN;
  if (!m || !Number.isSafeInteger(bytes)) {
    throw new InvalidArgumentError(`--memory ${JSON.stringify(value)} is not a size: use bytes or a number with k, m, g (e.g. 64m, 1g)`);
  }
  if (bytes < MIN_MEMORY_BYTES) {
    throw new InvalidArgumentError(`--memory ${JSON.stringify(value)} is ${bytes} bytes; the minimum is 6m (${MIN_MEMORY_BYTES} bytes)`);
  }
  return bytes;
}

/** "0.5", "2": a fraction of CPUs between 0.01 and the number of CPUs of the host. */
export function parseCpus(value: string, hostCpus: number): number {
  const cpus = /^\d+(\.\d+)?$|^\.\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(cpus) || cpus < 0.01 || cpus > hostCpus) {
    throw new InvalidArgumentError(`--cpus ${JSON.stringify(value)} is not allowed: use a number from 0.01 to ${hostCpus} (the host's CPUs)`);
  }
  return cpus;
}

export function parsePidsLimit(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`--pids-limit ${JSON.stringify(value)} is not allowed: use an integer >= 1`);
  }
  return n;
}

export function validateContainerName(name: string): string {
  validateObjectName(name, 'container');
  if (name.length > MAX_CONTAINER_NAME) {
    throw new InvalidArgumentError(`container name ${JSON.stringify(name)} is ${name.length} characters; at most ${MAX_CONTAINER_NAME} are allowed`);
  }
  return name;
}

/** RFC 1123 host name: labels of letters, digits and '-', dots between, at most 64 characters (the kernel's limit). */
export function validateHostname(h: string, flag = '--hostname'): string {
  if (h.length > 64 || !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(h)) {
    throw new InvalidArgumentError(`${flag} ${JSON.stringify(h)} is not a host name: use letters, digits, "-" and ".", at most 64 characters`);
  }
  return h;
}

export function validateEnv(pairs: string[]): string[] {
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.slice(0, i)) || p.includes('\0')) {
      throw new InvalidArgumentError(`--env ${JSON.stringify(p)} is not KEY=VALUE with KEY made of letters, digits and "_"`);
    }
  }
  return pairs;
}

/** Paths are passed to overlayfs in a comma- and colon-separated option string, so those characters cannot appear. */
export function validateLayerPath(p: string, flag = '--layer'): string {
  if (p.length === 0 || /[,:\n\0\\]/.test(p)) {
    throw new InvalidArgumentError(`${flag} ${JSON.stringify(p)} is not allowed: a layer path must be non-empty without ",", ":", "\\" or newlines`);
  }
  return path.resolve(p);
}

/** The container name made into a host name ("_" and "." are not allowed in a label by every resolver). */
function defaultHostname(name: string): string {
  return (
    name
      .slice(0, 63)
      .replace(/[^A-Za-z0-9-]/g, '-')
      .replace(/^-+|-+$/g, '') || 'container'
  );
}

function absoluteDir(flag: string, p: string): string {
  if (!p.startsWith('/') || p.includes('\0')) throw new InvalidArgumentError(`${flag} ${JSON.stringify(p)} must be an absolute path`);
  return path.posix.normalize(p);
}

/** Split --network values into a mode; the special names cannot be combined with anything else. */
export function parseNetworkMode(values: string[]): NetworkMode {
  if (values.length === 0) return { kind: 'networks', networks: [DEFAULT_NETWORK], isDefault: true };
  const special = values.filter((v) => v === 'none' || v === 'host' || v.startsWith('container:'));
  if (special.length > 0 && values.length > 1) {
    throw new InvalidArgumentError(`--network ${special[0]} cannot be combined with other networks (got ${values.join(', ')})`);
  }
  const v = values[0];
  if (v === 'none') return { kind: 'none' };
  if (v === 'host') return { kind: 'host' };
  if (v.startsWith('container:')) return { kind: 'container', container: validateContainerName(v.slice('container:'.length)) };
  for (const n of values) validateObjectName(n, 'network');
  if (new Set(values).size !== values.length) throw new InvalidArgumentError(`--network is given twice for the same network: ${values.join(', ')}`);
  return { kind: 'networks', networks: values, isDefault: false };
}

/** --add-host NAME:IP (IPv6 addresses contain ":", so the name ends at the first one; Docker also takes NAME=IP). */
export function parseAddHost(value: string): [string, string] {
  const i = value.search(/[:=]/);
  const name = i < 0 ? '' : value.slice(0, i);
  const ip = i < 0 ? '' : value.slice(i + 1).replace(/^\[(.*)\]$/, '$1');
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name) || parseIpOrUndefined(ip) === undefined) {
    throw new InvalidArgumentError(`--add-host ${JSON.stringify(value)} is not NAME:IP (e.g. db:10.0.0.5 or db:fd00::5)`);
  }
  return [name, ip];
}

function parseIpOrUndefined(ip: string): string | undefined {
  try {
    return parseIp(ip, 'address').address;
  } catch {
    return undefined;
  }
}

function parseEtc(raw: RawRunOptions): EtcOptions {
  const dns = raw.dns ?? [];
  for (const d of dns) if (parseIpOrUndefined(d) === undefined) throw new InvalidArgumentError(`--dns ${JSON.stringify(d)} is not an IP address`);
  const dnsSearch = raw.dnsSearch ?? [];
  for (const d of dnsSearch) {
    if (d !== '.' && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(d))
      throw new InvalidArgumentError(`--dns-search ${JSON.stringify(d)} is not a domain name`);
  }
  const dnsOptions = raw.dnsOption ?? [];
  for (const o of dnsOptions)
    if (!/^[a-z0-9-]+(:\d+)?$/.test(o)) throw new InvalidArgumentError(`--dns-option ${JSON.stringify(o)} is not a resolv.conf option (e.g. ndots:2, edns0)`);
  return { dns, dnsSearch, dnsOptions, extraHosts: (raw.addHost ?? []).map(parseAddHost) };
}

/** --user NAME|UID[:GROUP|GID]: names are looked up in the container's /etc/passwd and /etc/group. */
export function validateUser(u: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/.test(u)) {
    throw new InvalidArgumentError(`--user ${JSON.stringify(u)} is not NAME|UID[:GROUP|GID]`);
  }
  return u;
}

/** Every check that needs no disk and no store; `defaultName` is used when --name is absent. */
export function parseRunOptions(raw: RawRunOptions, command: string[], env: { hostCpus: number; defaultName: string }): RunSpec {
  const image = raw.image === undefined ? undefined : path.resolve(raw.image);
  if (image === undefined && (command.length === 0 || command[0] === '')) {
    throw new InvalidArgumentError('a command is required: cnm run [OPTIONS] -- CMD [ARG...] (or --image FILE, whose Cmd is the default)');
  }
  if (command[0] === '') throw new InvalidArgumentError('the command must not be an empty string');
  const name = validateContainerName(raw.name ?? env.defaultName);
  const netMode = parseNetworkMode(raw.network ?? []);
  const networks = netMode.kind === 'networks' ? netMode.networks : [];
  if ((raw.publish ?? []).length > 0 && networks.length === 0) {
    throw new InvalidArgumentError(
      `--publish ${raw.publish!.join(', ')} needs a cnm network: a container on --network ${(raw.network ?? [])[0]} has none of its own`,
    );
  }
  const named = (raw.network ?? []).length;
  if (raw.ip !== undefined && (netMode.kind !== 'networks' || netMode.isDefault || networks.length !== 1)) {
    throw new InvalidArgumentError(
      `--ip ${raw.ip} needs exactly one --network naming a cnm network (got ${named}); like Docker, the default network takes no --ip`,
    );
  }
  const aliases = raw.networkAlias ?? [];
  for (const a of aliases) validateHostname(a, '--network-alias');
  if (aliases.length > 0 && networks.length === 0)
    throw new InvalidArgumentError(`--network-alias needs a cnm network (got --network ${(raw.network ?? [])[0]})`);
  const joinsOther = netMode.kind === 'container' || netMode.kind === 'host';
  if (joinsOther && raw.hostname !== undefined) {
    throw new InvalidArgumentError(`--hostname cannot be set with --network ${(raw.network ?? [])[0]}: the container uses that network's host name`);
  }
  const etc = parseEtc(raw);
  if (joinsOther && (etc.dns.length || etc.dnsSearch.length || etc.dnsOptions.length || etc.extraHosts.length)) {
    throw new InvalidArgumentError(
      `--dns, --dns-search, --dns-option and --add-host cannot be set with --network ${(raw.network ?? [])[0]}: its /etc files are used`,
    );
  }
  const layers = (raw.layer ?? []).map((l) => validateLayerPath(l));
  const rootfsTar = raw.rootfsTar === undefined ? undefined : path.resolve(raw.rootfsTar);
  if (layers.length === 0 && rootfsTar === undefined && image === undefined) {
    throw new InvalidArgumentError('a root file system is required: give --image FILE, --layer DIR (repeatable, lowest first) or --rootfs-tar FILE');
  }
  if (raw.rm && raw.keep) throw new InvalidArgumentError('--rm and --keep contradict each other: --rm removes the container and its upper dir');
  return {
    name,
    netMode,
    networks,
    aliases,
    etc,
    ip: raw.ip,
    publish: (raw.publish ?? []).map(parsePublishSpec),
    hostname: validateHostname(raw.hostname ?? defaultHostname(name)),
    limits: {
      memoryBytes: raw.memory === undefined ? undefined : parseMemory(raw.memory),
      cpus: raw.cpus === undefined ? undefined : parseCpus(raw.cpus, env.hostCpus),
      pidsLimit: raw.pidsLimit === undefined ? undefined : parsePidsLimit(raw.pidsLimit),
    },
    layers,
    rootfsTar,
    image,
    entrypoint: raw.entrypoint === undefined ? undefined : raw.entrypoint === '' ? [] : [raw.entrypoint],
    user: raw.user === undefined ? undefined : validateUser(raw.user),
    env: validateEnv(raw.env ?? []),
    workdir: raw.workdir === undefined ? undefined : absoluteDir('--workdir', raw.workdir),
    autoRemove: !!raw.rm,
    detach: !!raw.detach,
    keep: !!raw.keep,
    command,
  };
}
