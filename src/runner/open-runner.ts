/**
 * Builds the runner's dependencies for the CLI: the engine (for sandboxes and endpoints) comes from the caller; the
 * store is a second connection to the same SQLite file (safe: every write is its own IMMEDIATE transaction).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { ProcOwnerProbe } from '../drivers/owner';
import { openStore } from '../store/sqlite-store';
import { CgroupManager } from './cgroup';
import type { RunnerDeps, SandboxProvider } from './deps';

export interface OpenedRunner {
  deps: RunnerDeps;
  close(): Promise<void>;
}

export function openRunner(stateDir: string, sandboxes: SandboxProvider): OpenedRunner {
  const store = openStore(stateDir);
  const deps: RunnerDeps = {
    store, sandboxes, stateDir, cgroups: new CgroupManager(), owner: new ProcOwnerProbe(), clock: () => new Date(),
    newId: () => randomBytes(32).toString('hex'), hostCpus: os.cpus().length,
  };
  return { deps, close: () => store.close() };
}

/** Run `fn` with an opened runner and always close its store. */
export async function withRunner<T>(stateDir: string, sandboxes: SandboxProvider, fn: (deps: RunnerDeps) => Promise<T>): Promise<T> {
  const r = openRunner(stateDir, sandboxes);
  try {
    return await fn(r.deps);
  } finally {
    await r.close();
  }
}
