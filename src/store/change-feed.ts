/**
 * Every change of a store, in order, as it happens: what `cnm events` follows. The embedded store keeps a change
 * log table (written in the same transaction as each change, src/store/sqlite-store.ts) that a follower polls;
 * etcd has its watch, and its history (from revision 1, until compacted) for changes that already happened.
 */
import type { StoreWatch, WatchEvent, WatchOptions } from './etcd-watch';
import type { SqliteStore } from './sqlite-store';

/** What the etcd feed needs of the store (EtcdStore has it). */
export interface WatchableStore {
  snapshot(prefix: string): Promise<{ revision: number }>;
  watch(prefix: string, onEvent: (ev: WatchEvent) => void, options?: WatchOptions): Promise<StoreWatch>;
}

/** etcd sends a replayed history as fast as it can: this long without one more means the replay is over. */
const REPLAY_QUIET_MS = 300;

export interface StoreChange {
  type: 'put' | 'delete';
  /** the raw store key (on etcd: with its host's "local/<host>/" for a host's own objects) */
  key: string;
  value?: string;
  revision: number;
  /** when it happened, when the store knows (etcd's history does not: undefined) */
  time?: string;
}

export interface FollowOptions {
  /** also replay the changes the store still has, oldest first (else only those from now on) */
  fromStart: boolean;
  onChange(c: StoreChange): void;
  /** the replay reached the present: what follows is live */
  onCaughtUp?(): void;
  onError(err: Error): void;
}

export interface ChangeFeed {
  follow(opts: FollowOptions): Promise<{ cancel(): Promise<void> }>;
}

/** The embedded store's change log, polled (one indexed query per tick). */
export class SqliteChangeFeed implements ChangeFeed {
  constructor(
    private readonly store: SqliteStore,
    private readonly pollMs = 100,
  ) {}

  async follow(opts: FollowOptions): Promise<{ cancel(): Promise<void> }> {
    let seq = opts.fromStart ? 0 : this.store.lastChangeSeq();
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    let caughtUp = false;
    const tick = (): void => {
      if (stopped) return;
      let more = false;
      try {
        const rows = this.store.changesAfter(seq);
        for (const r of rows) opts.onChange({ type: r.type, key: r.key, value: r.value, revision: r.revision, time: r.time });
        if (rows.length > 0) seq = rows[rows.length - 1].seq;
        more = rows.length >= 1000;
        if (!more && !caughtUp) {
          caughtUp = true;
          opts.onCaughtUp?.();
        }
      } catch (err) {
        opts.onError(err as Error);
        return;
      }
      if (!stopped) timer = setTimeout(tick, more ? 0 : this.pollMs);
    };
    tick();
    return {
      cancel: async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
      },
    };
  }
}

/** etcd: a watch on the whole namespace; with `fromStart`, from revision 1 (what etcd kept of its history). */
export class EtcdChangeFeed implements ChangeFeed {
  constructor(private readonly store: WatchableStore) {}

  async follow(opts: FollowOptions): Promise<{ cancel(): Promise<void> }> {
    // the revision now: replayed changes are at or below it (their time is unknown), later ones are live
    const now = (await this.store.snapshot('cluster/hosts/')).revision;
    let caughtUp = false;
    let quiet: NodeJS.Timeout | undefined;
    const catchUp = (): void => {
      if (quiet) clearTimeout(quiet);
      if (caughtUp) return;
      caughtUp = true;
      opts.onCaughtUp?.();
    };
    // the last revision may be another namespace's: the replay is over at the first live change, or when quiet
    const replaying = (): void => {
      if (quiet) clearTimeout(quiet);
      quiet = setTimeout(catchUp, REPLAY_QUIET_MS);
    };
    const watch = await this.store.watch(
      '',
      (ev) => {
        const live = ev.modRevision > now;
        if (live) catchUp();
        else replaying();
        opts.onChange({ type: ev.type, key: ev.key, value: ev.value, revision: ev.modRevision, ...(live ? { time: new Date().toISOString() } : {}) });
      },
      { fromRevision: opts.fromStart ? 1 : now + 1, onError: opts.onError },
    );
    if (opts.fromStart) replaying();
    else catchUp();
    return {
      cancel: async () => {
        if (quiet) clearTimeout(quiet);
        await watch.cancel();
      },
    };
  }
}
