/**
 * One shared store (etcd), many hosts: keys that describe the cluster (network records and names, the 'global'
 * IPAM address space, cluster/...) are shared, everything else (sandboxes, endpoints, attachments, the instance
 * id, bridge-driver and runner records, the 'local' IPAM space) is the host's own, kept under
 * "local/<host>/<key>". Callers keep using plain keys; a txn mixing both kinds stays one atomic etcd txn.
 */
import { InvalidArgumentError } from '../core/errors';
import { compareKeys, validateKey, validatePrefix, validateTxn } from '../store/keys';
import type { Compare, KeyValue, Op, Store, TxnRequest } from '../core/store';

/** Key prefixes shared by every host (the IPAM pool ids of the global space are URI-encoded "global/..."). */
export const SHARED_PREFIXES: readonly string[] = [
  'networks/',
  'network-names/',
  'cluster/',
  'ipam/spaces/global',
  'ipam/pools/global%2F',
  'ipam/addrs/global%2F',
  'ipam/next/global%2F',
];

export const LOCAL_ROOT = 'local/';

/** Host names become store keys and appear in FDB diagnostics: DNS-label-like, 1..63 characters. */
export function validateHostName(name: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name) || name.includes('..')) {
    throw new InvalidArgumentError(
      `host name ${JSON.stringify(name)} is not allowed: use 1..63 of letters, digits, "_", "." and "-", starting with a letter or digit`,
    );
  }
  return name;
}

export function isSharedKey(key: string): boolean {
  return SHARED_PREFIXES.some((p) => key.startsWith(p));
}

export class HostScopedStore implements Store {
  private readonly localPrefix: string;

  constructor(
    private readonly inner: Store,
    readonly hostName: string,
  ) {
    this.localPrefix = `${LOCAL_ROOT}${validateHostName(hostName)}/`;
  }

  /** The key as stored in the inner store. */
  rawKey(key: string): string {
    validateKey(key);
    return isSharedKey(key) ? key : this.localPrefix + key;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const kv = await this.inner.get(this.rawKey(key));
    return kv && { ...kv, key };
  }

  /**
   * A prefix lies wholly in one scope, or (short prefixes such as "ipam/pools/" or "") spans both: then the
   * local keys and the shared prefixes it covers are listed and merged in key order.
   */
  async list(prefix: string): Promise<KeyValue[]> {
    validatePrefix(prefix);
    if (isSharedKey(prefix)) return this.inner.list(prefix);
    const local = (await this.inner.list(this.localPrefix + prefix)).map((kv) => ({ ...kv, key: kv.key.slice(this.localPrefix.length) }));
    const covered = SHARED_PREFIXES.filter((p) => p.startsWith(prefix));
    if (covered.length === 0) return local;
    const shared = (await Promise.all(covered.map((p) => this.inner.list(p)))).flat();
    return [...local, ...shared].sort((a, b) => compareKeys(a.key, b.key));
  }

  async put(key: string, value: string): Promise<void> {
    await this.inner.put(this.rawKey(key), value);
  }

  async delete(key: string): Promise<void> {
    await this.inner.delete(this.rawKey(key));
  }

  async txn(req: TxnRequest): Promise<boolean> {
    validateTxn(req);
    const compare: Compare[] = req.compare.map((c) => ({ ...c, key: this.rawKey(c.key) }));
    return this.inner.txn({ compare, success: this.ops(req.success), failure: req.failure && this.ops(req.failure) });
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private ops(ops: Op[]): Op[] {
    return ops.flatMap((op): Op[] => {
      if (op.type !== 'deletePrefix') return [{ ...op, key: this.rawKey(op.key) }];
      if (isSharedKey(op.prefix)) return [op];
      const covered = SHARED_PREFIXES.filter((p) => p.startsWith(op.prefix));
      return [{ type: 'deletePrefix', prefix: this.localPrefix + op.prefix }, ...covered.map((p): Op => ({ type: 'deletePrefix', prefix: p }))];
    });
  }
}
