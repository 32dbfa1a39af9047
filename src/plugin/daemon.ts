/**
 * `cnm daemon` without commander: open the backend (driver + IPAM on the state dir), reconcile what a
 * previous run left behind, serve the plugin, and shut down cleanly on SIGTERM/SIGINT.
 */
import type { EventEmitter } from 'node:events';
import { errorMessage } from '../core/errors';
import type { KeyedMutex } from '../core/keyed-mutex';
import type { Logger } from '../core/log';
import type { NetworkDriver } from '../drivers/driver';
import type { Ipam } from '../ipam/ipam';
import { createPluginApp } from './app';
import { startPluginServer, type ServeOptions } from './server';

/** What the daemon runs on; built by src/wiring.ts. */
export interface DaemonBackend {
  driver: NetworkDriver;
  ipam: Ipam;
  /** serializes the calls that mutate one network or pool (shared with anything else in the process that does) */
  mutex: KeyedMutex;
  /** the engine's reconcile (`cnm gc`): rolls back unfinished work of a killed daemon */
  gc?: () => Promise<{ actions: string[] }>;
  close(): Promise<void>;
}

export interface DaemonOptions extends ServeOptions {
  stateDir: string;
  /** run gc before serving (default true) */
  gc?: boolean;
}

export interface DaemonDeps {
  openBackend(): Promise<DaemonBackend>;
  /** one JSON line per call and per lifecycle event */
  logger: Logger;
  /** where SIGTERM/SIGINT come from (process, or an emitter in tests) */
  signals?: EventEmitter;
  /** called once the socket accepts connections */
  onListening?: () => void;
}

export async function runDaemon(opts: DaemonOptions, deps: DaemonDeps): Promise<void> {
  const { logger } = deps;
  const signals = deps.signals ?? process;
  const backend = await deps.openBackend();
  try {
    if (opts.gc !== false && backend.gc) {
      const report = await backend.gc();
      for (const action of report.actions) logger.info({ action }, 'reconcile');
    }
    const app = createPluginApp({ driver: backend.driver, ipam: backend.ipam, logger, mutex: backend.mutex });
    const server = await startPluginServer(app, opts);
    logger.info({ socket: server.socketPath, tls: server.tlsAddress, stateDir: opts.stateDir }, 'cnm daemon listening');
    deps.onListening?.();
    const signal = await new Promise<string>((resolve) => {
      const done = (name: string): void => {
        signals.off('SIGTERM', onTerm);
        signals.off('SIGINT', onInt);
        resolve(name);
      };
      const onTerm = (): void => done('SIGTERM');
      const onInt = (): void => done('SIGINT');
      signals.on('SIGTERM', onTerm);
      signals.on('SIGINT', onInt);
    });
    logger.info({ signal }, 'cnm daemon stopping');
    await server.close();
  } catch (err) {
    logger.error({ err: errorMessage(err) }, 'cnm daemon failed');
    throw err;
  } finally {
    await backend.close();
  }
}
