/**
 * A lock shared by every cnm process of one host on one state dir (the daemon, CLI commands, `cnm run`): flock(2) on
 * `<state dir>/locks/<key>.lock`. Polled without blocking the event loop; released by the kernel if the holder dies.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InternalError } from '../core/errors';
import { tryLockExclusive, unlock } from './ffi';

const POLL_MS = 5;
const DEFAULT_TIMEOUT_MS = 30_000;

/** Runs `fn` holding the lock `key` ([a-z0-9-]) of the lock dir `dir`; waits up to `timeoutMs` for another holder. */
export async function withHostLock<T>(key: string, fn: () => Promise<T>, opts: { dir: string; timeoutMs?: number }): Promise<T> {
  if (!/^[a-z0-9-]{1,64}$/.test(key)) throw new InternalError(`host lock key ${JSON.stringify(key)} is not [a-z0-9-]{1,64}`);
  fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const file = path.join(opts.dir, `${key}.lock`);
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    while (!tryLockExclusive(fd)) {
      if (Date.now() > deadline) throw new InternalError(`timed out waiting for the host lock ${file} (another cnm process holds it)`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    try {
      return await fn();
    } finally {
      unlock(fd);
    }
  } finally {
    fs.closeSync(fd);
  }
}
