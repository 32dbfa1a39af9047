/**
 * Validation of `cnm run` options into a RunSpec. Pure (no file system): layer paths are checked later, by
 * rootfs.ts, because they need the disk; everything here fails before anything is created.
 */
import path from 'node:path';
import { InvalidArgumentError } from '../core/errors';
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
}

export interface RunSpec {
  name: string;
  networks: string[];
  ip?: string;
  /** published on the first --network's endpoint (same syntax as `cnm connect --publish`) */
  publish: PortRequest[];
  hostname: string;
  limits: CgroupLimits;
  /** absolute paths, lowest first */
  layers: string[];
  rootfsTar?: string;
  env: string[];
  workdir: string;
  autoRemove: boolean;
  detach: boolean;
  /** keep the upper dir after the container exits (removed by `cnm rm`) */
  keep: boolean;
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
export function validateHostname(h: string): string {
  if (h.length > 64 || !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(h)) {
    throw new InvalidArgumentError(`--hostname ${JSON.stringify(h)} is not a host name: use letters, digits, "-" and ".", at most 64 characters`);
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

/** Every check that needs no disk and no store; `defaultName` is used when --name is absent. */
export function parseRunOptions(raw: RawRunOptions, command: string[], env: { hostCpus: number; defaultName: string }): RunSpec {
  if (command.length === 0 || command[0] === '') throw new InvalidArgumentError('a command is required: cnm run [OPTIONS] -- CMD [ARG...]');
  const name = validateContainerName(raw.name ?? env.defaultName);
  const networks = raw.network ?? [];
  for (const n of networks) validateObjectName(n, 'network');
  if (new Set(networks).size !== networks.length) throw new InvalidArgumentError(`--network is given twice for the same network: ${networks.join(', ')}`);
  if ((raw.publish ?? []).length > 0 && networks.length === 0) {
    throw new InvalidArgumentError(`--publish ${raw.publish!.join(', ')} needs a --network: a container without one has only lo`);
  }
  if (raw.ip !== undefined && networks.length !== 1) {
    throw new InvalidArgumentError(`--ip ${raw.ip} needs exactly one --network (got ${networks.length})`);
  }
  const layers = (raw.layer ?? []).map((l) => validateLayerPath(l));
  const rootfsTar = raw.rootfsTar === undefined ? undefined : path.resolve(raw.rootfsTar);
  if (layers.length === 0 && rootfsTar === undefined) {
    throw new InvalidArgumentError('a root file system is required: give --layer DIR (repeatable, lowest first) or --rootfs-tar FILE');
  }
  if (raw.rm && raw.keep) throw new InvalidArgumentError('--rm and --keep contradict each other: --rm removes the container and its upper dir');
  return {
    name,
    networks,
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
    env: validateEnv(raw.env ?? []),
    workdir: absoluteDir('--workdir', raw.workdir ?? '/'),
    autoRemove: !!raw.rm,
    detach: !!raw.detach,
    keep: !!raw.keep,
    command,
  };
}
