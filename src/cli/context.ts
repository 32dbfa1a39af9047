/** What CLI commands run against: injected so tests can drive the commander program with fakes. */
import type { ForgetReport, HostInfo } from '../cluster/host-admin';
import type { Logger } from '../core/log';
import type { Engine } from '../engine/engine';
import type { DefaultPoolSpec } from '../ipam/default-pools';
import type { DoctorDeps } from '../diagnose/doctor';
import type { EventSource } from '../diagnose/events';
import type { GraphDeps } from '../diagnose/graph';
import type { HostExec } from '../firewall';
import type { DaemonBackend } from '../plugin/daemon';
import type { RunnerDeps } from '../runner/deps';

export interface GlobalOptions {
  stateDir: string;
  json: boolean;
  debug: boolean;
  /** store URL: undefined/"sqlite" (embedded, in stateDir) or "etcd://HOST:PORT[,HOST:PORT...]" (env CNM_STORE) */
  store?: string;
  /** false: run without touching the host firewall (--no-firewall); undefined: decided by CNM_FIREWALL */
  firewall?: false;
  /** --default-address-pool (repeatable) or env CNM_DEFAULT_ADDRESS_POOLS; undefined: Docker's default pools */
  defaultAddressPools?: DefaultPoolSpec[];
}

/** `cnm daemon`'s own flags that shape its backend. */
export interface DaemonSetup {
  /** --log-level (else CNM_LOG_LEVEL, else info; --debug: debug) */
  logLevel?: string;
  gc: boolean;
  /** false: --no-firewall on the daemon command */
  firewall: boolean;
  hostName?: string;
  underlayIp?: string;
  underlayDev?: string;
  /** false: --no-dns; else the --dns-upstream values (none: the host's resolvers) */
  dns: false | { upstreams: string[] };
  /** --metrics given: keep the metrics the backend feeds */
  metrics?: boolean;
}

export interface CliContext {
  /** Build (once) the engine for the given global options; real adapters come from src/wiring.ts. */
  engine(globals: GlobalOptions): Promise<Engine>;
  /** The runner's dependencies, on the same store and engine as every other command. */
  runner(globals: GlobalOptions): Promise<RunnerDeps>;
  /** The hosts of the shared store (`cnm host`); rejects with the embedded store. */
  hosts(globals: GlobalOptions): Promise<HostAdmin>;
  /** What `cnm doctor` reads: the store, the kernel, the firewall, and its probe. */
  doctor(globals: GlobalOptions): Promise<DoctorDeps>;
  /** The change feed `cnm events` follows. */
  events(globals: GlobalOptions): Promise<EventSource>;
  /** What `cnm graph` reads (and the host's tools, for Graphviz's dot). */
  graph(globals: GlobalOptions): Promise<GraphDeps & { exec: HostExec }>;
  /** The daemon's logger and (opened on demand) backend. */
  daemon(globals: GlobalOptions, setup: DaemonSetup): { logger: Logger; openBackend(): Promise<DaemonBackend> };
  /** Run a command inside a sandbox's netns with inherited stdio; resolves its exit code. */
  execInSandbox(sandbox: string, argv: string[]): Promise<number>;
  stdout(text: string): void;
  stderr(text: string): void;
  /** the exit code the process should end with (set by commands like exec) */
  exitCode?: number;
}

export interface HostAdmin {
  list(): Promise<HostInfo[]>;
  remove(name: string): Promise<ForgetReport>;
}

export const DEFAULT_STATE_DIR = '/var/lib/cnm';
