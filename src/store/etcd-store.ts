/**
 * EtcdStore: the Store on etcd v3 (npm `etcd3`), so several hosts share networks, IPAM and endpoints. Store keys
 * live under a prefix ("cnm/" by default); modRevision is etcd's mod_revision, a cluster-wide counter, so the
 * compare-and-set txns that keep one host safe (IPAM, names) keep a cluster safe unchanged.
 * Beyond the Store interface: watch() and putWithLease() for host registration and cross-host sync.
 */
import {
  ClientClosedError,
  Etcd3,
  EtcdAuthenticationFailedError,
  EtcdPermissionDeniedError,
  GRPCDeadlineExceededError,
  GRPCUnavailableError,
  type IKeyValue,
  type IOptions,
  type Namespace,
} from 'etcd3';
import { settledWithin } from '../core/deadline';
import { CnmError, InternalError, InvalidArgumentError, PermissionDeniedError } from '../core/errors';
import { compareKeys, validateKey, validatePrefix, validateTxn } from './keys';
import { KeySpace, toEtcdCompare, toEtcdOps } from './etcd-txn';
import { EtcdLeasedKey, type EtcdWatch, startWatch, type LeasedKey, type StoreWatch, type WatchEvent, type WatchOptions } from './etcd-watch';
import type { KeyValue, Store, TxnRequest } from '../core/store';

export type { LeasedKey, StoreWatch, WatchEvent, WatchOptions } from './etcd-watch';

export const DEFAULT_ETCD_PREFIX = 'cnm/';

export interface EtcdStoreOptions {
  /** "host:port" of each cluster member (http). */
  endpoints: string[];
  /** Every Store key is stored under this etcd key prefix; default "cnm/". */
  prefix?: string;
  /** Deadline of one unary request (not of watches or lease keepalives); default 5 s, well within dockerd's 30 s plugin timeout. */
  requestTimeoutMs?: number;
}

/** etcd cannot be reached (down, wrong address, partitioned): a state of the environment, not a bug in cnm. */
export class StoreUnavailableError extends CnmError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('internal', 'CNM_STORE_UNAVAILABLE', message, options);
  }
}

/** How long close() waits for etcd to confirm watch cancellations. */
const WATCH_CANCEL_MS = 1000;

/** Keys per range request when listing: bounded replies however much is stored. */
const LIST_PAGE = 1000;

export class EtcdStore implements Store {
  private readonly client: Etcd3;
  private readonly ns: Namespace;
  private readonly keys: KeySpace;
  private readonly label: string;
  private readonly watches = new Set<EtcdWatch>();
  private readonly leases = new Set<EtcdLeasedKey>();
  private closed = false;

  constructor(readonly options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new InvalidArgumentError('an etcd store needs at least one endpoint (host:port)');
    const prefix = options.prefix ?? DEFAULT_ETCD_PREFIX;
    if (prefix === '') throw new InvalidArgumentError('the etcd key prefix must not be empty: cnm keeps its keys apart from others');
    const timeout = options.requestTimeoutMs ?? 5_000;
    this.label = `etcd://${options.endpoints.join(',')}`;
    const clientOptions: IOptions = {
      hosts: options.endpoints.map((e) => `http://${e}`),
      // a deadline on every unary call, so an unreachable cluster fails a command instead of hanging it; streams
      // (watch, lease keepalive) live as long as the process
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    };
    this.client = new Etcd3(clientOptions);
    this.ns = this.client.namespace(prefix);
    this.keys = new KeySpace(prefix);
  }

  /** "etcd://host:port,..." for messages. */
  toString(): string {
    return this.label;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    validateKey(key);
    const res = await this.call('read', () => this.client.kv.range({ key: this.keys.key(key) }));
    const kv = res.kvs[0];
    return kv && this.toKeyValue(kv);
  }

  async list(prefix: string): Promise<KeyValue[]> {
    return (await this.snapshot(prefix)).items;
  }

  /**
   * Every key under `prefix` at one revision, and that revision: watch from `revision + 1` to see every later
   * change exactly once (list-then-watch without a gap).
   */
  async snapshot(prefix: string): Promise<{ items: KeyValue[]; revision: number }> {
    validatePrefix(prefix);
    const { start, end } = this.keys.range(prefix);
    const items: KeyValue[] = [];
    let from = start;
    let revision: number | undefined;
    for (;;) {
      const res = await this.call('list', () => this.client.kv.range({ key: from, range_end: end, limit: LIST_PAGE, revision: revision ?? 0 }));
      revision ??= Number(res.header.revision);
      for (const kv of res.kvs) items.push(this.toKeyValue(kv));
      if (!res.more || res.kvs.length === 0) break;
      // pages continue after the last key, at the first page's revision, so the whole list is one snapshot
      from = Buffer.concat([res.kvs[res.kvs.length - 1].key, Buffer.from([0])]);
    }
    // etcd orders by bytes, which for UTF-8 is code-point order already; sorting keeps that promise explicit
    items.sort((a, b) => compareKeys(a.key, b.key));
    return { items, revision };
  }

  async put(key: string, value: string): Promise<void> {
    await this.txn({ compare: [], success: [{ type: 'put', key, value }] });
  }

  async delete(key: string): Promise<void> {
    await this.txn({ compare: [], success: [{ type: 'delete', key }] });
  }

  async txn(req: TxnRequest): Promise<boolean> {
    validateTxn(req);
    const res = await this.call(`write (txn of ${req.success.length}/${req.failure?.length ?? 0} ops)`, () =>
      this.client.kv.txn({
        compare: req.compare.map((c) => toEtcdCompare(this.keys, c)),
        success: toEtcdOps(this.keys, req.success),
        failure: toEtcdOps(this.keys, req.failure ?? []),
      }),
    );
    return res.succeeded;
  }

  /**
   * Calls `onEvent` for every change under `prefix`, in revision order, from `fromRevision` (default: from now).
   * Equivalent to: `etcdctl watch --prefix <prefix>`.
   */
  async watch(prefix: string, onEvent: (ev: WatchEvent) => void, options: WatchOptions = {}): Promise<StoreWatch> {
    validatePrefix(prefix);
    this.assertOpen();
    const w = await this.call('watch', () => startWatch(this.ns, prefix, onEvent, options, (done) => this.watches.delete(done)));
    this.watches.add(w);
    return w;
  }

  /**
   * Puts `key` attached to a new lease of `ttlSeconds`, kept alive by this process until revoked, released or
   * the store is closed; when this process dies, etcd deletes the key once the TTL runs out.
   * Equivalent to: `etcdctl lease grant <ttl>` + `etcdctl put --lease=<id> <key> <value>` + `lease keep-alive`.
   */
  async putWithLease(key: string, value: string, ttlSeconds: number): Promise<LeasedKey> {
    validateKey(key);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new InvalidArgumentError(`lease TTL ${ttlSeconds} is not an integer >= 1 (seconds)`);
    this.assertOpen();
    const lease = this.ns.lease(ttlSeconds);
    const leased = new EtcdLeasedKey(key, lease, (done) => this.leases.delete(done));
    try {
      await this.call('put with lease', async () => {
        await leased.init();
        await lease.put(key).value(value).exec();
      });
    } catch (err) {
      leased.release();
      throw err;
    }
    this.leases.add(leased);
    return leased;
  }

  /** Stops watches and lease keepalives (keys stay until their TTL runs out) and closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const l of [...this.leases]) l.release();
    // a watch's cancel waits for etcd's confirmation: bounded, since closing the client ends the stream anyway
    await settledWithin(Promise.all([...this.watches].map((w) => w.cancel().catch(() => undefined))), WATCH_CANCEL_MS);
    this.client.close();
  }

  private toKeyValue(kv: IKeyValue): KeyValue {
    const key = this.keys.strip(kv.key);
    if (key === undefined) throw new InternalError(`${this.label} returned key ${kv.key.toString()} outside its prefix`);
    return { key, value: kv.value.toString('utf8'), modRevision: Number(kv.mod_revision) };
  }

  private assertOpen(): void {
    if (this.closed) throw new InternalError(`store ${this.label} is closed`);
  }

  /** Runs one etcd exchange, translating its failures into CnmErrors that name the endpoints. */
  private async call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await fn();
    } catch (err) {
      throw translateEtcdError(err, `${action} store ${this.label}`);
    }
  }
}

export function translateEtcdError(err: unknown, action: string): CnmError {
  if (err instanceof CnmError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (
    err instanceof GRPCUnavailableError ||
    err instanceof GRPCDeadlineExceededError ||
    /ECONNREFUSED|EHOSTUNREACH|ENOTFOUND|No connection established/.test(message)
  ) {
    return new StoreUnavailableError(`${action}: etcd is unreachable (${message})`, {
      cause: err,
      hint: 'check that etcd runs at those endpoints and that --store (or CNM_STORE) names them',
    });
  }
  if (err instanceof EtcdPermissionDeniedError || err instanceof EtcdAuthenticationFailedError) {
    return new PermissionDeniedError(`${action}: ${message}`, { cause: err, hint: "etcd refused cnm: check the cluster's auth settings" });
  }
  if (/too many operations in txn/.test(message)) {
    return new InvalidArgumentError(`${action}: etcd refused it, too many operations in one txn`, {
      cause: err,
      hint: "etcd's --max-txn-ops (128 by default) bounds the ops of one txn",
    });
  }
  if (err instanceof ClientClosedError) return new InternalError(`${action}: the etcd client is closed`, { cause: err });
  return new InternalError(`${action}: ${message}`, { cause: err });
}
