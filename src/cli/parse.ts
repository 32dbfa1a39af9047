/** Parsers for repeatable CLI values (commander argParsers): they throw InvalidArgumentError naming the value. */
import { InvalidArgumentError } from '../core/errors';

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** "K=V" pairs into a map; a missing "=" or an empty key is an error naming the flag and the value. */
export function parseKeyValues(flag: string, pairs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`${flag} ${JSON.stringify(pair)} is not KEY=VALUE`);
    const key = pair.slice(0, i);
    if (key in out && out[key] !== pair.slice(i + 1)) throw new InvalidArgumentError(`${flag} ${key} is given twice with different values`);
    out[key] = pair.slice(i + 1);
  }
  return out;
}

export function parseInteger(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} ${JSON.stringify(value)} is not a positive integer`);
  return Number(value);
}
