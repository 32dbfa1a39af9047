/** Validation of names and numbers that end up in the kernel: interface names, files under /run/netns, MTUs. */
import { InvalidArgumentError } from './errors';

const IFNAME_MAX = 15;

/** Linux interface name rules (dev_valid_name): 1..15 bytes, no '/', no whitespace, not '.' or '..', no ':'. */
export function validateIfName(name: string, what = 'interface name'): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(`${what} must not be empty`);
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > IFNAME_MAX) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(name)} is ${bytes} bytes; at most ${IFNAME_MAX} are allowed`);
  }
  if (name === '.' || name === '..' || name.includes('..')) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(name)} must not contain ".."`);
  }
  if (/[/\s:\0]/.test(name)) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(name)} must not contain "/", ":", NUL or whitespace`);
  }
  return name;
}

/**
 * Sandbox (netns) and network names: they become a file name under /run/netns and a key in the store.
 * Allowed: 1..64 of [A-Za-z0-9_.-], starting with an alphanumeric, no "..".
 */
export function validateObjectName(name: string, what: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(`${what} name must not be empty`);
  }
  if (name.length > 64) {
    throw new InvalidArgumentError(`${what} name ${JSON.stringify(name)} is ${name.length} characters; at most 64 are allowed`);
  }
  if (name.includes('..') || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new InvalidArgumentError(
      `${what} name ${JSON.stringify(name)} is not allowed: use letters, digits, "_", "." and "-", starting with a letter or digit, without ".." or "/"`,
    );
  }
  return name;
}

export const MIN_MTU = 68;
export const MAX_MTU = 65535;

/** Validate an MTU given as text or number, naming the value when it is out of range. */
export function parseMtu(value: string | number, what = 'mtu'): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < MIN_MTU || n > MAX_MTU) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(String(value))} is not allowed: use an integer from ${MIN_MTU} to ${MAX_MTU}`);
  }
  return n;
}

/** Six colon-separated hex octets, as Go's net.HardwareAddr.String() prints them. */
export function isMacAddress(s: string): boolean {
  return typeof s === 'string' && /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s);
}
