/** Watches and leased keys of EtcdStore: the two etcd features host registration and cross-host sync rest on. */
import type { IKeyValue, Lease, Namespace, Watcher } from 'etcd3';

export interface WatchEvent {
  type: 'put' | 'delete';
  /** Store key (without the store's etcd prefix). */
  key: string;
  /** The new value; undefined for a delete. */
  value?: string;
  /** Revision of the change (for a delete: the revision that deleted it). */
  modRevision: number;
}

export interface WatchOptions {
  /** First revision to report (e.g. snapshot().revision + 1); default: changes after the watch starts. */
  fromRevision?: number;
  /**
   * Called when the watch cannot go on by itself, e.g. its start revision was compacted away; the caller
   * re-lists and watches again. Brief disconnections are retried by the client and not reported here.
   */
  onError?: (err: Error) => void;
}

export interface StoreWatch {
  /** Stops the watch; no event is delivered after it resolves. */
  cancel(): Promise<void>;
}

export interface LeasedKey {
  readonly key: string;
  /** The etcd lease ID (decimal). */
  readonly leaseId: string;
  /** `cb` runs once if the lease is lost: it expired (etcd unreachable past the TTL) or was revoked elsewhere. */
  onLost(cb: (err: Error) => void): void;
  /** Renews the lease now (keepalives also run by themselves every TTL/3). */
  keepAliveOnce(): Promise<void>;
  /** Revokes the lease: etcd deletes the key at once. */
  revoke(): Promise<void>;
  /** Stops keepalives without revoking: etcd deletes the key when the TTL runs out (what a crash looks like). */
  release(): void;
}

export class EtcdWatch implements StoreWatch {
  private cancelled = false;
  constructor(
    private readonly watcher: Watcher,
    private readonly onDone: (w: EtcdWatch) => void,
  ) {}

  async cancel(): Promise<void> {
    if (this.cancelled) return;
    this.cancelled = true;
    this.onDone(this);
    this.watcher.removeAllListeners('put');
    this.watcher.removeAllListeners('delete');
    await this.watcher.cancel();
  }
}

/** Starts an etcd watch on every key under `prefix` of namespace `ns`, resolving once etcd has accepted it. */
export async function startWatch(
  ns: Namespace,
  prefix: string,
  onEvent: (ev: WatchEvent) => void,
  options: WatchOptions,
  onDone: (w: EtcdWatch) => void,
): Promise<EtcdWatch> {
  let builder = ns.watch().prefix(prefix);
  if (options.fromRevision !== undefined) builder = builder.startRevision(String(options.fromRevision));
  const watcher = await builder.create();
  const emit = (type: WatchEvent['type'], kv: IKeyValue): void => {
    const ev: WatchEvent = { type, key: kv.key.toString('utf8'), modRevision: Number(kv.mod_revision) };
    if (type === 'put') ev.value = kv.value.toString('utf8');
    onEvent(ev);
  };
  watcher.on('put', (kv) => emit('put', kv));
  watcher.on('delete', (kv) => emit('delete', kv));
  // an 'error' event without a listener would crash the process
  watcher.on('error', (err) => options.onError?.(err));
  return new EtcdWatch(watcher, onDone);
}

export class EtcdLeasedKey implements LeasedKey {
  private id = '';
  private done = false;

  constructor(
    readonly key: string,
    private readonly lease: Lease,
    private readonly onDone: (l: EtcdLeasedKey) => void,
  ) {
    // without a listener the loss would go unnoticed; onLost() adds the caller's
    lease.on('lost', () => undefined);
  }

  get leaseId(): string {
    return this.id;
  }

  /** Called once the lease is granted. */
  async init(): Promise<void> {
    this.id = await this.lease.grant();
  }

  onLost(cb: (err: Error) => void): void {
    this.lease.once('lost', cb);
  }

  async keepAliveOnce(): Promise<void> {
    await this.lease.keepaliveOnce();
  }

  async revoke(): Promise<void> {
    this.finish();
    await this.lease.revoke();
  }

  release(): void {
    this.finish();
    this.lease.release();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.onDone(this);
  }
}
