/**
 * A simulated cluster on one machine: a test underlay bridge in the root netns (198.18.<r>.254/24, benchmark
 * range, never routed anywhere), a private etcd listening on that address, and N "hosts", each a netns with one
 * veth on the underlay (198.18.<r>.<i>) running its own `cnm daemon` (own state dir and socket). cnm commands of
 * a host run through `nsenter --net` (not `ip netns exec`, whose private mount namespace would hide the sandbox
 * netns files cnm creates from every other process). Everything is named with one random prefix and removed.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startEtcd, type EtcdServer } from '../../helpers/etcd-server';
import { jsonLines } from '../../helpers/logs';
import { waitFor } from '../../helpers/wait';

const pexec = promisify(execFile);
export const CLI = path.resolve(__dirname, '../../../cnm.js');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
  try {
    const r = await pexec(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

export async function must(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export class SimHost {
  daemon?: ChildProcess;
  daemonLog = '';
  constructor(
    readonly cluster: SimCluster,
    readonly index: number,
  ) {}
  get name(): string {
    return `h${this.index}`;
  }
  get netns(): string {
    return `${this.cluster.prefix}h${this.index}`;
  }
  get ip(): string {
    return `${this.cluster.subnet}.${this.index}`;
  }
  get stateDir(): string {
    return path.join(this.cluster.tmp, this.name);
  }
  get socket(): string {
    return path.join(this.cluster.tmp, `${this.name}.sock`);
  }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, CNM_FIREWALL: 'off', CNM_HOST_NAME: this.name };
  }

  private argv(args: string[]): string[] {
    return [`--net=/run/netns/${this.netns}`, process.execPath, CLI, '--store', `etcd://${this.cluster.etcd!.endpoint}`, '--state-dir', this.stateDir, ...args];
  }

  /** A `cnm` command on this host. */
  cnm(...args: string[]): Promise<Result> {
    return run('nsenter', this.argv(args), { env: this.env() });
  }

  async cnmOk(...args: string[]): Promise<string> {
    const r = await this.cnm(...args);
    if (r.code !== 0) throw new Error(`cnm ${args.join(' ')} on ${this.name} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** A command in this host's netns (verification only). */
  inHost(cmd: string, args: string[]): Promise<Result> {
    return run('nsenter', [`--net=/run/netns/${this.netns}`, cmd, ...args]);
  }

  /** more `cnm daemon` arguments for the next startDaemon() (e.g. --metrics) */
  daemonArgs: string[] = [];

  /** A long-running `cnm` command on this host (e.g. `events`), its output piped. */
  spawnCnm(...args: string[]): ChildProcess {
    return spawn('nsenter', this.argv(args), { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** The JSON lines the daemon logged (the last 8000 characters of them). */
  daemonLogLines(): Record<string, unknown>[] {
    // the kept tail may begin inside a line: only whole ones
    return jsonLines<Record<string, unknown>>(
      this.daemonLog
        .split('\n')
        .filter((l) => l.endsWith('}'))
        .join('\n'),
    );
  }

  async startDaemon(): Promise<void> {
    const child = spawn('nsenter', this.argv(['daemon', '--socket', this.socket, '--host-name', this.name, '--underlay-ip', this.ip, ...this.daemonArgs]), {
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.daemon = child;
    const onData = (d: Buffer): void => {
      this.daemonLog = (this.daemonLog + d.toString()).slice(-8000);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    await waitFor(`daemon ${this.name} to listen`, () => this.daemonLog.includes('cnm daemon listening'), {
      timeoutMs: 20_000,
      failFast: () => (child.exitCode !== null || child.signalCode !== null ? `it exited: ${this.daemonLog}` : undefined),
    });
  }

  /** Stops the daemon: SIGTERM (a restart) or SIGKILL (a crash). */
  async stopDaemon(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.daemon;
    this.daemon = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    // nsenter execs node in place, so the child's pid is the daemon's
    child.kill(signal);
    await exited;
  }

  /** `bridge fdb show dev <dev>` remote entries as "mac dst". */
  async fdb(dev: string): Promise<string[]> {
    const r = await this.inHost('bridge', ['fdb', 'show', 'dev', dev]);
    return r.stdout
      .split('\n')
      .map((l) => /^(\S+) dst (\S+)/.exec(l))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => `${m[1]} ${m[2]}`);
  }
}

export class SimCluster {
  readonly prefix = `mh${Math.random().toString(36).slice(2, 6)}`;
  readonly subnet = `198.18.${10 + Math.floor(Math.random() * 200)}`;
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnm-mh-'));
  readonly hosts: SimHost[] = [];
  etcd?: EtcdServer;
  private readonly sandboxes = new Set<string>();

  get bridge(): string {
    return `${this.prefix}ul`;
  }

  /** A started cluster of `n` hosts; a failed start leaves nothing behind. */
  static async started(n: number): Promise<SimCluster> {
    const c = new SimCluster();
    try {
      await c.start(n);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  async start(n: number): Promise<void> {
    await must('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    await must('ip', ['addr', 'add', `${this.subnet}.254/24`, 'dev', this.bridge]);
    await must('ip', ['link', 'set', this.bridge, 'up']);
    for (let i = 1; i <= n; i++) {
      const h = new SimHost(this, i);
      this.hosts.push(h);
      await must('ip', ['netns', 'add', h.netns]);
      await must('ip', ['link', 'add', `${this.prefix}v${i}`, 'master', this.bridge, 'up', 'type', 'veth', 'peer', 'name', 'ul0', 'netns', h.netns]);
      await must('ip', ['-n', h.netns, 'addr', 'add', `${h.ip}/24`, 'dev', 'ul0']);
      await must('ip', ['-n', h.netns, 'link', 'set', 'ul0', 'up']);
      await must('ip', ['-n', h.netns, 'link', 'set', 'lo', 'up']);
    }
    this.etcd = await startEtcd({ host: `${this.subnet}.254` });
    for (const h of this.hosts) await h.startDaemon();
  }

  /** A sandbox name (netns names are machine-wide), remembered for cleanup. */
  sandbox(name: string): string {
    const full = `${this.prefix}${name}`;
    this.sandboxes.add(full);
    return full;
  }

  /** Run in a sandbox's netns (verification and traffic). */
  inSandbox(sandbox: string, cmd: string, args: string[], timeoutMs = 30_000): Promise<Result> {
    return run('nsenter', [`--net=/run/netns/${sandbox}`, cmd, ...args], { timeoutMs });
  }

  async ping(from: string, to: string, extra: string[] = []): Promise<boolean> {
    return (await this.inSandbox(from, 'ping', ['-c', '1', '-W', '2', ...extra, to])).code === 0;
  }

  async stop(): Promise<void> {
    for (const h of this.hosts) await h.stopDaemon('SIGKILL').catch(() => undefined);
    for (const sb of this.sandboxes) await run('ip', ['netns', 'del', sb]);
    for (const h of this.hosts) {
      await run('ip', ['link', 'del', `${this.prefix}v${h.index}`]);
      await run('ip', ['netns', 'del', h.netns]);
    }
    await run('ip', ['link', 'del', this.bridge]);
    await this.etcd?.stop();
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  /** Names of links and netns of this cluster still present (should be none after stop). */
  async leftovers(): Promise<string[]> {
    const links = (await run('ip', ['-o', 'link'])).stdout.split('\n').filter((l) => l.includes(this.prefix));
    const netns = (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(this.prefix));
    return [...links, ...netns];
  }
}
