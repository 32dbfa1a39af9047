/**
 * `cnm daemon` without commander: open the backend (driver + IPAM on the state dir), reconcile what a
 * previous run left behind, serve the plugin, and shut down cleanly on SIGTERM/SIGINT.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { errorMessage } from '../core/errors';
import type { KeyedMutex } from '../core/keyed-mutex';
import type { Logger } from '../core/log';
import type { NetworkDriver } from '../drivers/driver';
import type { Ipam } from '../ipam/ipam';
import type { DaemonMetrics, MetricsListen } from './metrics';
import { startPluginServer, type ServeOptions } from './server';

/** What the daemon runs on; built by src/wiring.ts. */
export interface DaemonBackend {
  driver: NetworkDriver;
  ipam: Ipam;
  /** serializes the calls that mutate one network or pool (shared with anything else in the process that does) */
  mutex: KeyedMutex;
  /** the engine's reconcile (`cnm gc`): rolls back unfinished work of a killed daemon */
  gc?: () => Promise<{ actions: string[] }>;
  /** present when the daemon was asked for metrics (`--metrics`): the backend feeds it */
  metrics?: DaemonMetrics;
  close(): Promise<void>;
}

export interface DaemonOptions extends ServeOptions {
  stateDir: string;
  /** run gc before serving (default true) */
  gc?: boolean;
  /** serve Prometheus text on GET /metrics there (`--metrics`) */
  metrics?: MetricsListen;
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

/**
 * The request listener the socket is bound with before cnm is ready: calls wait until open() hands it the plugin
 * app, or are answered with the startup error by fail(). Binding first matters to dockerd: it dials a managed
 * plugin's socket 500 ms after starting it and then only every 3 s, so a socket bound later costs every
 * `docker plugin enable` and every dockerd start 3 s more.
 */
export function gatedListener(): { listener: RequestListener; open(app: RequestListener): void; fail(message: string): void } {
  let target: RequestListener | undefined;
  let failure: string | undefined;
  const waiting: [IncomingMessage, ServerResponse][] = [];
  const refuse = (res: ServerResponse): void => {
    res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ Err: `cnm daemon failed to start: ${failure}` }));
  };
  return {
    listener: (req, res) => {
      if (target) target(req, res);
      else if (failure !== undefined) refuse(res);
      else waiting.push([req, res]);
    },
    open(app) {
      target = app;
      for (const [req, res] of waiting.splice(0)) app(req, res);
    },
    fail(message) {
      failure = message;
      for (const [, res] of waiting.splice(0)) refuse(res);
    },
  };
}

export async function runDaemon(opts: DaemonOptions, deps: DaemonDeps): Promise<void> {
  const { logger } = deps;
  const signals = deps.signals ?? process;
  const gate = gatedListener();
  const server = await startPluginServer(gate.listener, opts);
  let backend: DaemonBackend | undefined;
  let metricsServer: { address: string; close(): Promise<void> } | undefined;
  try {
    backend = await deps.openBackend();
    if (opts.gc !== false && backend.gc) {
      const report = await backend.gc();
      for (const action of report.actions) logger.info({ action }, 'reconcile');
    }
    // express and the request schemas load after the socket is bound (~150 ms here)
    const { createPluginApp } = require('./app') as typeof import('./app.js');
    const metrics = backend.metrics;
    if (opts.metrics && metrics) {
      const { kindOfStatus, serveMetrics } = require('./metrics') as typeof import('./metrics.js');
      metricsServer = await serveMetrics(metrics, opts.metrics);
      logger.info({ metrics: `http://${metricsServer.address}/metrics` }, 'serving metrics');
      const onCall = (method: string, seconds: number, status: number) => metrics.observeCall(method, seconds, kindOfStatus(status));
      gate.open(createPluginApp({ driver: backend.driver, ipam: backend.ipam, logger, mutex: backend.mutex, onCall }));
    } else {
      gate.open(createPluginApp({ driver: backend.driver, ipam: backend.ipam, logger, mutex: backend.mutex }));
    }
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
  } catch (err) {
    gate.fail(errorMessage(err));
    logger.error({ err: errorMessage(err) }, 'cnm daemon failed');
    throw err;
  } finally {
    await metricsServer?.close();
    await server.close();
    await backend?.close();
  }
}
