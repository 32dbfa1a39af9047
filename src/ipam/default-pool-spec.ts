/**
 * The text forms of the default address pools, as dockerd takes them: the repeatable flag
 * `--default-address-pool base=CIDR,size=N` and the env CNM_DEFAULT_ADDRESS_POOLS ("base=CIDR,size=N;base=...").
 * Like dockerd's flag, a configured list replaces the local default pools (Docker's 172.17-31/16, 192.168/20).
 */
import { familyBits, parseCidr } from '../core/ip';
import { isCnmError, InvalidArgumentError } from '../core/errors';
import type { DefaultPoolSpec } from './default-pools';

export const DEFAULT_POOLS_ENV = 'CNM_DEFAULT_ADDRESS_POOLS';
const FORM = 'base=CIDR,size=N (e.g. base=10.10.0.0/16,size=24)';

/** One "base=CIDR,size=N"; `what` names where it came from in errors (the flag or the env variable). */
export function parseDefaultPoolSpec(text: string, what = '--default-address-pool'): DefaultPoolSpec {
  const bad = (why: string) => new InvalidArgumentError(`${what} ${JSON.stringify(text)}: ${why}`);
  const fields: Record<string, string> = {};
  for (const part of text.split(',').map((s) => s.trim())) {
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    if (key !== 'base' && key !== 'size') throw bad(`expected ${FORM}; ${JSON.stringify(part)} is not base=... or size=...`);
    if (key in fields) throw bad(`${key} is given twice`);
    fields[key] = part.slice(eq + 1).trim();
  }
  if (fields.base === undefined || fields.size === undefined) throw bad(`expected ${FORM}; ${fields.base === undefined ? 'base' : 'size'} is missing`);
  let base;
  try {
    base = parseCidr(fields.base, 'base');
  } catch (err) {
    throw bad(isCnmError(err) ? err.message.replace(/^invalid /, '') : String(err));
  }
  const bits = familyBits(base.family);
  const allowed = `allowed: ${base.prefixLength} to ${bits}`;
  if (!/^\d+$/.test(fields.size)) throw bad(`size ${JSON.stringify(fields.size)} is not a prefix length; ${allowed}`);
  const size = Number(fields.size);
  if (size < base.prefixLength) throw bad(`size ${size} is smaller than the base's prefix length ${base.prefixLength}; ${allowed}`);
  if (size > bits) throw bad(`size ${size} is more than the ${bits} bits of an IPv${base.family} address; ${allowed}`);
  return { base: fields.base, size };
}

/** The env form: specs separated by ";" (empty entries ignored). */
export function parseDefaultPoolList(text: string, what = DEFAULT_POOLS_ENV): DefaultPoolSpec[] {
  return text
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => parseDefaultPoolSpec(s, what));
}

/**
 * The configured default pools: the flag values when given (they win), else the env variable, else undefined
 * (the built-in Docker defaults apply). An env variable set to blanks counts as unset.
 */
export function configuredDefaultPools(flags: readonly string[] | undefined, env: NodeJS.ProcessEnv = process.env): DefaultPoolSpec[] | undefined {
  if (flags && flags.length > 0) return flags.map((f) => parseDefaultPoolSpec(f));
  const fromEnv = env[DEFAULT_POOLS_ENV];
  if (fromEnv === undefined || fromEnv.trim() === '') return undefined;
  const list = parseDefaultPoolList(fromEnv);
  if (list.length === 0) throw new InvalidArgumentError(`${DEFAULT_POOLS_ENV} ${JSON.stringify(fromEnv)} names no pool; expected ${FORM}[;...]`);
  return list;
}
