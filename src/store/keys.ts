/** Key validation and ordering shared by every Store implementation, so they agree on what a key is and how keys sort. */

import { InvalidArgumentError } from '../core/errors';
import type { TxnRequest } from '../core/store';

// With the u flag a valid surrogate pair is one code point, so \p{Cs} matches only lone surrogates.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Rejects keys the stores cannot treat alike: empty keys, a leading slash (the contract says paths without one),
 * NUL, and lone UTF-16 surrogates (SQLite would store them as U+FFFD, so two different JS keys would collide).
 */
export function validateKey(key: string, what = 'key'): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgumentError(`invalid store ${what} ${JSON.stringify(key)}: must be a non-empty string`);
  }
  if (key.startsWith('/')) {
    throw new InvalidArgumentError(`invalid store ${what} ${JSON.stringify(key)}: must not start with "/"`, {
      hint: `use ${JSON.stringify(key.replace(/^\/+/, ''))}`,
    });
  }
  if (key.includes('\0') || LONE_SURROGATE.test(key)) {
    throw new InvalidArgumentError(`invalid store ${what} ${JSON.stringify(key)}: NUL and lone surrogates are not allowed`);
  }
}

/** Validates a list prefix; unlike a key, the empty prefix (everything) is allowed. */
export function validatePrefix(prefix: string): void {
  if (prefix !== '') validateKey(prefix, 'prefix');
}

/**
 * Orders keys by Unicode code point, which is the order SQLite's BINARY collation gives on UTF-8 text.
 * JS's `<` compares UTF-16 code units, which differs only where a surrogate (a character above U+FFFF) meets a
 * unit in U+E000..U+FFFF; remapping the units at the first difference fixes that without allocating.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * The smallest string greater than every string starting with `prefix` (etcd's "prefix end"), or undefined when
 * no such string exists. Lets a prefix scan be an index range `key >= prefix AND key < end`.
 */
export function prefixEnd(prefix: string): string | undefined {
  const cps = [...prefix].map((c) => c.codePointAt(0)!);
  while (cps.length > 0) {
    const last = cps.pop()!;
    if (last < 0x10ffff) {
      // skip the surrogate range: those code points cannot appear in well-formed keys
      cps.push(last + 1 === 0xd800 ? 0xe000 : last + 1);
      return String.fromCodePoint(...cps);
    }
  }
  return undefined;
}

/** Validates every key of a txn before anything is applied, so a bad key never leaves a half-applied txn. */
export function validateTxn(req: TxnRequest): void {
  for (const c of req.compare) {
    validateKey(c.key);
    if (!Number.isSafeInteger(c.modRevision) || c.modRevision < 0) {
      throw new InvalidArgumentError(`invalid compare on ${JSON.stringify(c.key)}: modRevision ${c.modRevision} is not an integer >= 0`);
    }
  }
  for (const op of [...req.success, ...(req.failure ?? [])]) {
    if (op.type === 'deletePrefix') validatePrefix(op.prefix);
    else validateKey(op.key);
    if (op.type === 'put' && typeof op.value !== 'string') {
      throw new InvalidArgumentError(`invalid put of ${JSON.stringify(op.key)}: value must be a string`);
    }
  }
}
