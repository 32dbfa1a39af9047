/**
 * A private, throwaway etcd for tests: Debian's `etcd-server` (/usr/bin/etcd) on random free client and peer
 * ports of one address (127.0.0.1 unless told), with a temporary data dir. Never the default 2379/2380, so a
 * user's own etcd is left alone.
 *
 *   const etcd = await startEtcd();          // in before()
 *   new EtcdStore({ endpoints: [etcd.endpoint] });
 *   await etcd.stop();                       // in after(): kills it and removes its data dir
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ETCD_BINARY = '/usr/bin/etcd';

export interface EtcdServer {
  /** "127.0.0.1:PORT", as `--store etcd://<endpoint>` takes it */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly pid: number;
  /** Stops etcd (SIGTERM, then SIGKILL after 5 s) and removes its data dir; safe to call twice. */
  stop(): Promise<void>;
}

export interface StartEtcdOptions {
  /** Address to listen on (client and peer), e.g. an address of a test underlay; default 127.0.0.1. */
  host?: string;
  /** How long to wait for /health to say true; default 20 s. */
  readyTimeoutMs?: number;
}

/** Why etcd tests cannot run here, or undefined when they can. */
export function etcdUnavailableReason(): string | undefined {
  try {
    fs.accessSync(ETCD_BINARY, fs.constants.X_OK);
    return undefined;
  } catch {
    return `${ETCD_BINARY} not found: install Debian's etcd-server (apt-get install etcd-server, or scripts/setup.sh --test)`;
  }
}

/** Starts a private single-member etcd and waits until it is healthy; retries with new ports if one was taken. */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  const reason = etcdUnavailableReason();
  if (reason) throw new Error(reason);
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options.host ?? '127.0.0.1', options.readyTimeoutMs ?? 20_000);
    } catch (err) {
      lastErr = err; // most likely a port taken between probing it and etcd binding it
    }
  }
  throw lastErr;
}

async function startOnce(host: string, readyTimeoutMs: number): Promise<EtcdServer> {
  const [clientPort, peerPort] = await freePorts(host, 2);
  // tmpfs when there is one: etcd fsyncs every commit, which on a disk makes tests slow for nothing
  const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const dataDir = fs.mkdtempSync(path.join(base, 'cnm-etcd-'));
  const client = `http://${hostPort(host, clientPort)}`;
  const peer = `http://${hostPort(host, peerPort)}`;
  const name = `cnm-test-${process.pid}`;
  const args = [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${name}=${peer}`,
    '--initial-cluster-state=new',
    `--initial-cluster-token=${path.basename(dataDir)}`,
    '--logger=zap',
    '--log-outputs=stderr',
    '--log-level=error',
  ];
  const child = spawn(ETCD_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const server: EtcdServer = {
    endpoint: hostPort(host, clientPort),
    clientPort,
    peerPort,
    dataDir,
    pid: child.pid ?? -1,
    stop: () => stopProcess(child, dataDir),
  };
  try {
    await waitHealthy(child, `${client}/health`, readyTimeoutMs, () => stderr);
    return server;
  } catch (err) {
    await server.stop();
    throw err;
  }
}

function hostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Ports the kernel hands out for port 0 on `host`; all are held open together so they differ. */
async function freePorts(host: string, n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, host, () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

async function waitHealthy(child: ChildProcess, url: string, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`etcd exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${log()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`etcd at ${url} not healthy after ${timeoutMs} ms:\n${log()}`);
}

async function stopProcess(child: ChildProcess, dataDir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}
