/**
 * Store txns → etcd Txn requests. etcd refuses a txn that writes one key twice or puts a key inside a range it
 * also deletes ("duplicate key given in txn request"), while the Store contract applies ops in order. So the ops
 * are first reduced to their net effect (in byte order, as etcd compares keys): the last put of each key wins,
 * and delete ranges are split around the keys that are put again later.
 */
import { CompareResult, CompareTarget, type ICompare, type IRequestOp } from 'etcd3';
import type { Compare, Op } from '../core/store';

/** A byte range [start, end); `end` undefined means the single key `start`. */
interface ByteRange {
  start: Buffer;
  end?: Buffer;
}

/** Maps Store keys to etcd keys under one prefix, as bytes. */
export class KeySpace {
  readonly prefix: Buffer;
  constructor(prefix: string) {
    this.prefix = Buffer.from(prefix, 'utf8');
  }

  key(key: string): Buffer {
    return Buffer.concat([this.prefix, Buffer.from(key, 'utf8')]);
  }

  /** The etcd range holding every key under `prefix` (the whole key space for ""). */
  range(prefix: string): { start: Buffer; end: Buffer } {
    const start = this.key(prefix);
    return { start, end: bytePrefixEnd(start) };
  }

  /** The Store key of an etcd key, or undefined when it is not under this key space. */
  strip(etcdKey: Buffer): string | undefined {
    if (etcdKey.length < this.prefix.length || !etcdKey.subarray(0, this.prefix.length).equals(this.prefix)) return undefined;
    return etcdKey.subarray(this.prefix.length).toString('utf8');
  }
}

/**
 * The smallest byte string above every string starting with `prefix` (etcd's GetPrefixRangeEnd). The key
 * space prefix is never empty, so there always is one.
 */
export function bytePrefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  // all 0xff: "every key >= prefix", which etcd spells as range_end "\0"
  return Buffer.from([0]);
}

/** modRevision 0 means "absent": an absent key has version 0, an existing one >= 1. */
export function toEtcdCompare(ks: KeySpace, c: Compare): ICompare {
  if (c.modRevision === 0) {
    return { key: ks.key(c.key), target: CompareTarget.Version, result: CompareResult.Equal, version: 0 };
  }
  return { key: ks.key(c.key), target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: c.modRevision };
}

/** The net effect of `ops` applied in order, as etcd request ops that never touch one key twice. */
export function toEtcdOps(ks: KeySpace, ops: Op[]): IRequestOp[] {
  const puts = new Map<string, { key: Buffer; value: Buffer }>();
  const deletes: ByteRange[] = [];
  for (const op of ops) {
    if (op.type === 'put') {
      const key = ks.key(op.key);
      puts.set(key.toString('hex'), { key, value: Buffer.from(op.value, 'utf8') });
    } else {
      const r: ByteRange = op.type === 'delete' ? { start: ks.key(op.key) } : ks.range(op.prefix);
      for (const [id, p] of puts) if (covers(r, p.key)) puts.delete(id);
      deletes.push(r);
    }
  }
  let ranges = deletes;
  for (const p of puts.values()) ranges = ranges.flatMap((r) => (covers(r, p.key) ? splitAround(r, p.key) : [r]));
  return [
    ...ranges.map((r): IRequestOp => ({ request_delete_range: r.end ? { key: r.start, range_end: r.end } : { key: r.start } })),
    ...[...puts.values()].map((p): IRequestOp => ({ request_put: { key: p.key, value: p.value } })),
  ];
}

function covers(r: ByteRange, key: Buffer): boolean {
  if (!r.end) return r.start.equals(key);
  const belowEnd = (r.end.length === 1 && r.end[0] === 0) || Buffer.compare(key, r.end) < 0;
  return Buffer.compare(key, r.start) >= 0 && belowEnd;
}

/** [start, end) less `key`: [start, key) and [key+"\0", end), dropping empty parts. */
function splitAround(r: ByteRange, key: Buffer): ByteRange[] {
  if (!r.end) return [];
  const out: ByteRange[] = [];
  if (Buffer.compare(r.start, key) < 0) out.push({ start: r.start, end: key });
  const next = Buffer.concat([key, Buffer.from([0])]);
  const unbounded = r.end.length === 1 && r.end[0] === 0;
  if (unbounded || Buffer.compare(next, r.end) < 0) out.push({ start: next, end: r.end });
  return out;
}
