/**
 * The embedded Store: one SQLite file (`<stateDir>/cnm.db`) shared by every cnm process on the host.
 * WAL lets readers run beside a writer; every write is a `BEGIN IMMEDIATE` transaction, so the CLI and a daemon
 * writing at once are serialised by SQLite's file lock, and a crash mid-write rolls back on the next open.
 */

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CnmError, InternalError, InvalidArgumentError, PermissionDeniedError } from '../core/errors';
import { compareKeys, prefixEnd, validateKey, validatePrefix, validateTxn } from './keys';
import type { KeyValue, Op, Store, TxnRequest } from '../core/store';

export const DEFAULT_STATE_DIR = '/var/lib/cnm';
export const DB_FILE_NAME = 'cnm.db';
const SCHEMA_VERSION = 1;

export interface SqliteStoreOptions {
  /**
   * How long a write waits for another process's write lock before failing (SQLite busy_timeout). The wait blocks
   * the event loop, which is acceptable because cnm's transactions are a few statements long.
   */
  busyTimeoutMs?: number;
}

interface Row {
  key: string;
  value: string;
  mod_revision: number;
}

/** One row of the change log: what a write did to one key (the follower of `cnm events` reads these). */
export interface ChangeRow {
  /** position in the log (increasing, never reused) */
  seq: number;
  revision: number;
  type: 'put' | 'delete';
  key: string;
  /** the new value of a put */
  value?: string;
  /** when the write happened (ISO 8601, ms) */
  time: string;
}

/** How many changes the log keeps: older rows are pruned as new ones come (about a day of busy use). */
export const CHANGE_LOG_ROWS = 50_000;

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly runTxn: (req: TxnRequest) => boolean;
  private readonly stmts;

  /** Opens (creating when absent) the database file `file`; its directory must exist. */
  constructor(
    readonly file: string,
    options: SqliteStoreOptions = {},
  ) {
    const busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new InvalidArgumentError(`invalid busyTimeoutMs ${busyTimeoutMs}: must be an integer >= 0`);
    }
    try {
      createPrivateFile(file);
      this.db = new Database(file, { timeout: busyTimeoutMs });
    } catch (err) {
      throw translate(err, `open store ${file}`);
    }
    try {
      this.db.pragma('journal_mode = WAL');
      // NORMAL (in WAL mode): a commit is not fsynced, the WAL is synced at each checkpoint. The database stays
      // consistent whatever happens; a power loss may only drop the last few commits. That is safe here because
      // the kernel objects those commits describe (netns, veths, bridges) do not survive a power loss either, and
      // reconcile (`cnm gc`, daemon start) makes the kernel and the store agree again. A process crash (kill -9)
      // loses nothing: committed pages are in the OS page cache. FULL cost one fsync per write (0.2-2 ms, several
      // per connect) for no gain in what survives.
      this.db.pragma('synchronous = NORMAL');
      this.migrate();
      this.stmts = this.prepare();
    } catch (err) {
      this.db.close();
      throw translate(err, `open store ${file}`);
    }
    this.runTxn = this.db.transaction((req: TxnRequest) => this.txnBody(req)).immediate;
  }

  /** The store-wide revision: the modRevision the last write got (0 before any write). */
  currentRevision(): number {
    this.assertOpen();
    return (this.stmts.getRevision.get() as { value: number }).value;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    validateKey(key);
    this.assertOpen();
    const row = this.guard('read', () => this.stmts.get.get(key) as Row | undefined);
    return row && toKeyValue(row);
  }

  async list(prefix: string): Promise<KeyValue[]> {
    validatePrefix(prefix);
    this.assertOpen();
    const end = prefixEnd(prefix);
    const rows = this.guard('list', () => (end === undefined ? this.stmts.listFrom.all(prefix) : this.stmts.listRange.all(prefix, end)) as RawRow[]);
    // SQLite's BINARY order is already code-point order; the sort only guards against a non-default collation
    // (on sorted input it is one linear pass).
    return rows.map(fromRawRow).sort((a, b) => compareKeys(a.key, b.key));
  }

  async put(key: string, value: string): Promise<void> {
    await this.txn({ compare: [], success: [{ type: 'put', key, value }] });
  }

  async delete(key: string): Promise<void> {
    await this.txn({ compare: [], success: [{ type: 'delete', key }] });
  }

  async txn(req: TxnRequest): Promise<boolean> {
    validateTxn(req);
    this.assertOpen();
    return this.guard('write', () => this.runTxn(req));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Runs inside BEGIN IMMEDIATE: nobody else can write between the compares and the ops. */
  private txnBody(req: TxnRequest): boolean {
    const held = req.compare.every((c) => {
      const row = this.stmts.getRev.get(c.key) as { mod_revision: number } | undefined;
      return (row?.mod_revision ?? 0) === c.modRevision;
    });
    this.apply(held ? req.success : (req.failure ?? []));
    return held;
  }

  /**
   * Applies ops under one new revision, which is only consumed when something actually changed (as in etcd). Each
   * changed key is also appended to the change log, in the same transaction.
   */
  private apply(ops: Op[]): void {
    if (ops.length === 0) return;
    const rev = (this.stmts.getRevision.get() as { value: number }).value + 1;
    const time = new Date().toISOString();
    let changes = 0;
    for (const op of ops) {
      if (op.type === 'put') {
        const n = this.stmts.put.run(op.key, op.value, rev).changes;
        if (n > 0) this.stmts.logChange.run(rev, 'put', op.key, op.value, time);
        changes += n;
      } else if (op.type === 'delete') {
        const n = this.stmts.del.run(op.key).changes;
        if (n > 0) this.stmts.logChange.run(rev, 'delete', op.key, null, time);
        changes += n;
      } else {
        const end = prefixEnd(op.prefix);
        const gone = (end === undefined ? this.stmts.delFromReturning.all(op.prefix) : this.stmts.delRangeReturning.all(op.prefix, end)) as { key: string }[];
        for (const g of gone) this.stmts.logChange.run(rev, 'delete', g.key, null, time);
        changes += gone.length;
      }
    }
    if (changes > 0) {
      this.stmts.setRevision.run(rev);
      if (rev % 1000 === 0) this.stmts.pruneChanges.run(CHANGE_LOG_ROWS);
    }
  }

  /** The log position of the last change (0: none yet): a follower starting now reads after it. */
  lastChangeSeq(): number {
    this.assertOpen();
    return (this.stmts.lastChange.get() as { seq: number | null }).seq ?? 0;
  }

  /** The log position just before the first change at or after `time` (a follower replaying from then). */
  changeSeqBefore(time: Date): number {
    this.assertOpen();
    const row = this.stmts.firstChangeSince.get(time.toISOString()) as { seq: number | null };
    return row.seq !== null ? row.seq - 1 : this.lastChangeSeq();
  }

  /** Up to `limit` changes after log position `seq`, oldest first. */
  changesAfter(seq: number, limit = 1000): ChangeRow[] {
    this.assertOpen();
    const rows = this.guard('read change log', () => this.stmts.changesAfter.all(seq, limit)) as (Omit<ChangeRow, 'value'> & { value: string | null })[];
    return rows.map((r) => ({ seq: r.seq, revision: r.revision, type: r.type, key: r.key, ...(r.value !== null ? { value: r.value } : {}), time: r.time }));
  }

  /**
   * Creates the schema once; an up-to-date file needs no write lock, so opening never waits for a writer. The
   * change log came later without a version bump (an older cnm ignores the table): a file without it gets it.
   */
  private migrate(): void {
    if (this.schemaVersion() === SCHEMA_VERSION && this.hasChangeLog()) return;
    this.db
      .transaction(() => {
        this.db.exec(`
        CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, mod_revision INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0);
        INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ${SCHEMA_VERSION});
        CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, revision INTEGER NOT NULL, type TEXT NOT NULL,
          key TEXT NOT NULL, value TEXT, time TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS changes_time ON changes (time);
      `);
        const v = this.schemaVersion() ?? SCHEMA_VERSION;
        if (v > SCHEMA_VERSION) {
          throw new InvalidArgumentError(`store ${this.file} has schema version ${v}; this cnm understands up to ${SCHEMA_VERSION}`, {
            hint: 'upgrade cnm, or point it at another state directory',
          });
        }
      })
      .immediate();
  }

  private hasChangeLog(): boolean {
    return !!this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'changes'`).get();
  }

  private schemaVersion(): number | undefined {
    const hasMeta = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
    if (!hasMeta) return undefined;
    const row = this.db.prepare(`SELECT value FROM meta WHERE name = 'schema_version'`).get() as { value: number } | undefined;
    return row?.value;
  }

  private prepare() {
    const db = this.db;
    return {
      get: db.prepare('SELECT key, value, mod_revision FROM kv WHERE key = ?'),
      getRev: db.prepare('SELECT mod_revision FROM kv WHERE key = ?'),
      // raw rows (arrays): a list can return thousands of rows (IPAM addresses), and arrays are cheaper than objects
      listRange: db.prepare('SELECT key, value, mod_revision FROM kv WHERE key >= ? AND key < ? ORDER BY key').raw(true),
      listFrom: db.prepare('SELECT key, value, mod_revision FROM kv WHERE key >= ? ORDER BY key').raw(true),
      put: db.prepare(
        'INSERT INTO kv (key, value, mod_revision) VALUES (?, ?, ?) ' +
          'ON CONFLICT (key) DO UPDATE SET value = excluded.value, mod_revision = excluded.mod_revision',
      ),
      del: db.prepare('DELETE FROM kv WHERE key = ?'),
      delRangeReturning: db.prepare('DELETE FROM kv WHERE key >= ? AND key < ? RETURNING key'),
      delFromReturning: db.prepare('DELETE FROM kv WHERE key >= ? RETURNING key'),
      logChange: db.prepare('INSERT INTO changes (revision, type, key, value, time) VALUES (?, ?, ?, ?, ?)'),
      pruneChanges: db.prepare('DELETE FROM changes WHERE seq <= (SELECT MAX(seq) FROM changes) - ?'),
      lastChange: db.prepare('SELECT MAX(seq) AS seq FROM changes'),
      firstChangeSince: db.prepare('SELECT MIN(seq) AS seq FROM changes WHERE time >= ?'),
      changesAfter: db.prepare('SELECT seq, revision, type, key, value, time FROM changes WHERE seq > ? ORDER BY seq LIMIT ?'),
      getRevision: db.prepare(`SELECT value FROM meta WHERE name = 'revision'`),
      setRevision: db.prepare(`UPDATE meta SET value = ? WHERE name = 'revision'`),
    };
  }

  private guard<T>(action: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw translate(err, `${action} store ${this.file}`);
    }
  }

  private assertOpen(): void {
    if (!this.db.open) throw new InternalError(`store ${this.file} is closed`);
  }
}

/** The state directory: an explicit one, else $CNM_STATE_DIR, else /var/lib/cnm. */
export function resolveStateDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicit || env.CNM_STATE_DIR || DEFAULT_STATE_DIR;
}

/** Opens `<stateDir>/cnm.db`, creating the state directory (mode 0700) when missing. */
export function openStore(stateDir?: string, options?: SqliteStoreOptions): SqliteStore {
  const dir = resolveStateDir(stateDir);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw translate(err, `create state directory ${dir}`);
  }
  return new SqliteStore(path.join(dir, DB_FILE_NAME), options);
}

function toKeyValue(row: Row): KeyValue {
  return { key: row.key, value: row.value, modRevision: row.mod_revision };
}

/** [key, value, mod_revision], as the raw list statements return it. */
type RawRow = [string, string, number];

function fromRawRow(row: RawRow): KeyValue {
  return { key: row[0], value: row[1], modRevision: row[2] };
}

/** The database holds every network's state: create it 0600 (SQLite gives its -wal/-shm files the same mode). */
function createPrivateFile(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', 0o600));
}

function translate(err: unknown, action: string): CnmError {
  if (err instanceof CnmError) return err;
  const code = (err as { code?: string }).code ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'EACCES' || code === 'EPERM' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM') {
    return new PermissionDeniedError(`${action}: ${message}`, { cause: err, hint: 'run as root or choose a writable --state-dir' });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new InternalError(`${action}: database is busy (another cnm process holds the write lock)`, {
      cause: err,
      hint: 'retry; if it persists, look for a hung cnm process',
    });
  }
  return new InternalError(`${action}: ${message}`, { cause: err });
}
