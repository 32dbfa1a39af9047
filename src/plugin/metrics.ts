/**
 * `cnm daemon --metrics HOST:PORT`: Prometheus text on GET /metrics (prom-client, on a registry of its own).
 * Events are counted where they happen (plugin calls, firewall applies, cluster syncs); object counts and IPAM use
 * are read from the store at each scrape, so they are right whichever process (CLI, daemon) made the objects.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { InvalidArgumentError } from '../core/errors';
import { ipFamily } from '../core/ip';
import { STATUS_OF_KIND } from './errors-to-http';

/** What a scrape reads (built by src/wiring.ts from the store and the cluster sync). */
export interface MetricsSnapshot {
  /** networks by driver */
  networks: Record<string, number>;
  endpoints: number;
  sandboxes: number;
  /** per IPAM pool: its size (addresses) and how many are allocated */
  pools: { pool: string; size: number; used: number }[];
  /** hosts holding a lease (shared store only) */
  hostsAlive?: number;
}

export interface MetricsListen {
  host: string;
  port: number;
}

const LOOPBACK = '127.0.0.1';

/** "PORT", "HOST:PORT" or "[V6]:PORT"; a bare port listens on loopback only. */
export function parseMetricsAddress(spec: string): MetricsListen {
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]+)):)?(\d{1,5})$/.exec(spec.trim());
  const port = m ? Number(m[3]) : NaN;
  const host = m?.[1] ?? m?.[2] ?? LOOPBACK;
  if (
    !m ||
    !(port >= 0 && port <= 65535) ||
    (m[1] !== undefined && ipFamily(m[1]) !== 6) ||
    (m[2] !== undefined && ipFamily(m[2]) !== 4 && m[2] !== 'localhost')
  ) {
    throw new InvalidArgumentError(
      `invalid --metrics ${JSON.stringify(spec)}: give PORT (loopback), IPV4:PORT or [IPV6]:PORT, port 0-65535 (0: any free one, logged)`,
    );
  }
  return { host, port };
}

/** Buckets for plugin calls and syncs: 0.5 ms .. 10 s. */
const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly calls: Histogram<'method' | 'result'>;
  private readonly errors: Counter<'method' | 'kind'>;
  private readonly firewallApply: Histogram<'result'>;
  private readonly clusterSync: Histogram;

  /** `clustered`: on a shared store (the hosts-alive gauge exists only there) */
  constructor(snapshot: () => Promise<MetricsSnapshot>, opts: { clustered?: boolean } = {}) {
    const registers = [this.registry];
    this.calls = new Histogram({
      name: 'cnm_plugin_call_duration_seconds',
      help: 'Plugin calls from dockerd, by method and result (ok, or the error kind)',
      labelNames: ['method', 'result'],
      buckets: SECONDS,
      registers,
    });
    this.errors = new Counter({
      name: 'cnm_plugin_errors_total',
      help: 'Failed plugin calls, by method and error kind',
      labelNames: ['method', 'kind'],
      registers,
    });
    this.firewallApply = new Histogram({
      name: 'cnm_firewall_apply_duration_seconds',
      help: 'Applying the whole firewall state (one nft transaction and what goes with it), by result',
      labelNames: ['result'],
      buckets: SECONDS,
      registers,
    });
    this.clusterSync = new Histogram({
      name: 'cnm_cluster_sync_lag_seconds',
      help: "From a change of the shared store (another host's endpoint, a host joining or leaving) to this host's vxlan entries matching it",
      buckets: SECONDS,
      registers,
    });
    // read once per scrape, shared by the gauges below
    let pending: Promise<MetricsSnapshot> | undefined;
    const read = (): Promise<MetricsSnapshot> => {
      pending ??= snapshot().finally(() => setImmediate(() => (pending = undefined)));
      return pending;
    };
    new Gauge({
      name: 'cnm_networks',
      help: 'Networks of this host, by driver',
      labelNames: ['driver'],
      registers,
      async collect() {
        this.reset();
        for (const [driver, n] of Object.entries((await read()).networks)) this.set({ driver }, n);
      },
    });
    new Gauge({
      name: 'cnm_endpoints',
      help: 'Endpoints of this host (CLI and Docker)',
      registers,
      async collect() {
        this.set((await read()).endpoints);
      },
    });
    new Gauge({
      name: 'cnm_sandboxes',
      help: 'Sandboxes (network namespaces) cnm keeps',
      registers,
      async collect() {
        this.set((await read()).sandboxes);
      },
    });
    new Gauge({
      name: 'cnm_ipam_pool_size',
      help: 'Addresses in each IPAM pool',
      labelNames: ['pool'],
      registers,
      async collect() {
        this.reset();
        for (const p of (await read()).pools) this.set({ pool: p.pool }, p.size);
      },
    });
    new Gauge({
      name: 'cnm_ipam_pool_used',
      help: 'Addresses allocated in each IPAM pool',
      labelNames: ['pool'],
      registers,
      async collect() {
        this.reset();
        for (const p of (await read()).pools) this.set({ pool: p.pool }, p.used);
      },
    });
    if (opts.clustered) {
      new Gauge({
        name: 'cnm_cluster_hosts_alive',
        help: 'Hosts of the shared store holding a lease',
        registers,
        async collect() {
          this.set((await read()).hostsAlive ?? 0);
        },
      });
    }
  }

  /** One plugin call: `kind` is undefined for a success. */
  observeCall(method: string, seconds: number, kind?: string): void {
    this.calls.observe({ method, result: kind ?? 'ok' }, seconds);
    if (kind) this.errors.inc({ method, kind });
  }

  observeFirewallApply(seconds: number, ok: boolean): void {
    this.firewallApply.observe({ result: ok ? 'ok' : 'error' }, seconds);
  }

  observeClusterSync(seconds: number): void {
    this.clusterSync.observe(seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Serves GET /metrics; resolves once listening, with the bound address and a close function. */
export async function serveMetrics(metrics: DaemonMetrics, at: MetricsListen): Promise<{ address: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('cnm serves GET /metrics here\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(body),
      (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics unavailable: ${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES'
          ? new InvalidArgumentError(`--metrics ${at.host}:${at.port}: cannot listen there (${err.code})`)
          : err,
      ),
    );
    server.listen(at.port, at.host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    address: a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The plugin's HTTP status back to the error kind it was mapped from (errors-to-http.ts); other 4xx (a body
 * dockerd could not have meant, a wrong HTTP method) are invalid input, other 5xx internal. */
const KIND_OF_STATUS = new Map(Object.entries(STATUS_OF_KIND).map(([kind, status]) => [status, kind]));
export function kindOfStatus(status: number): string | undefined {
  if (status < 400) return undefined;
  return KIND_OF_STATUS.get(status) ?? (status < 500 ? 'invalid' : 'internal');
}
