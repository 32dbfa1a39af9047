/**
 * A private Docker engine for e2e tests: its own dockerd (data-root, exec-root, socket, pidfile, config,
 * containerd namespace under a temp dir), a busybox image, and the cnm plugin as a child process
 * (`node dist/cnm.js daemon`) under a unique name `cnm-e2e-<rand>` (bench/docker.ts: `cnm-bench-`),
 * so a dockerd the user already runs is never touched. Installs nothing: the test script apt-gets docker.io
 * and busybox-static.
 *
 * dockerd and the plugin run in a network namespace of their own (`netns`, entered with nsenter --net, which keeps
 * the host's mounts and cgroups): a dockerd with --bridge=none in the host netns would delete the host's docker0,
 * and whatever the engine and the plugin do to links, routes, sysctls and firewalls stays in that netns. Tests
 * look there with exec(). dockerd runs with --bridge=none, --iptables=false, --ip-forward=false and
 * --ip-masq=false all the same. cnm's own networks do not need them
 * for container-to-container and container-to-gateway traffic, which is all these tests send.
 * With `dockerIptables: true` dockerd runs as on a normal host instead (--iptables, --ip-forward, --ip-masq:
 * its DOCKER chains, and the FORWARD policy DROP, set by the harness when dockerd kept ACCEPT because forwarding
 * was already on) — in its netns, so the host's firewall and sysctls are not touched either way.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildBusyboxImage } from './busybox-image';
import { waitFor } from './wait';

export const PLUGIN_DIR = '/run/docker/plugins';
/**
 * Host paths outside the temp dir that dockerd 20.10 or the plugin create when missing: dockerd writes its
 * trust key to /etc/docker/key.json whatever --data-root says. Whatever did not exist before is removed.
 */
const HOST_PATHS = ['/etc/docker/key.json', '/etc/docker', PLUGIN_DIR, '/run/docker'];
const REPO = path.resolve(__dirname, '../../..');
export const CLI_MAIN = path.join(REPO, 'dist/cnm.js');
/**
 * The docker CLI of Debian's docker.io package, by path: a newer CLI earlier on PATH (this machine has Docker 28's in
 * /usr/local/bin) would negotiate the API differently from what users of these engines run.
 */
export const DOCKER_CLI = '/usr/bin/docker';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() || (err && code === 1 ? err.message : '') });
    });
  });
}

function socketAccepts(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(p);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function exited(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/**
 * The engines every e2e suite runs against: the host's dockerd (Debian 12: 20.10) and Debian 13's dockerd 26.1 from
 * the root scripts/engine-26.sh makes (`root`: run pivot_root'ed into it, in a mount namespace of its own).
 */
export interface EngineSpec {
  /** "dockerd 20.10": in test names */
  label: string;
  root?: string;
}

export const ENGINES: EngineSpec[] = [
  { label: 'dockerd 20.10' },
  { label: 'dockerd 26.1', root: process.env.CNM_DOCKERD26_ROOT || '/var/cache/cnm/trixie-docker' },
];

/** Why a skip: the e2e tier needs root, dockerd (of that engine) and the built CLI. */
export function e2eUnavailable(engine: EngineSpec = ENGINES[0]): string | undefined {
  if (process.getuid?.() !== 0) return 'e2e tests need root';
  for (const bin of ['/usr/sbin/dockerd', DOCKER_CLI, '/bin/busybox'])
    if (!existsSync(bin)) return `${bin} is missing (apt-get install docker.io busybox-static)`;
  if (engine.root && !existsSync(path.join(engine.root, '.cnm-engine-ready')))
    return `${engine.label} is not set up in ${engine.root} (bash scripts/engine-26.sh)`;
  if (!existsSync(CLI_MAIN)) return `${CLI_MAIN} is missing (run tsc first)`;
  return undefined;
}

/**
 * Starts dockerd from `root` (argv after the script name: ROOT DIR dockerd ARGS...): a private mount namespace where
 * ROOT is a mount point (dockerd remounts / for its archive helpers), the host's /proc, /sys, /dev and /run inside it
 * (so the plugin sockets in /run/docker/plugins and the netns files are shared), the harness dir at its own path
 * (socket, data and exec roots), the host's whole tree at /.host (for `docker run -v` of host paths: hostPath()),
 * then pivot_root — under a plain chroot runc cannot join a container's mount
 * namespace. Everything mounted here dies with the namespace.
 */
const PIVOT_LAUNCH = `set -e
root=$1; dir=$2; shift 2
mount --bind "$root" "$root"
mkdir -p "$root/.host"
mount --rbind / "$root/.host"
for d in proc sys dev run; do mount --rbind "/$d" "$root/$d"; done
mount -t tmpfs tmpfs "$root/tmp"
mkdir -p "$root$dir"
mount --bind "$dir" "$root$dir"
cd "$root"
mkdir -p .oldroot
pivot_root . .oldroot
cd /
umount -l /.oldroot
exec "$@"`;

export interface HarnessOptions {
  /**
   * Start dockerd and the plugin in their own process groups (default false). Then a terminal Ctrl-C
   * does not kill them before the owner's stop() has removed containers and networks; the owner must
   * handle SIGINT/SIGTERM and call stop(), or they outlive it.
   */
  detached?: boolean;
  /** first part of the plugin name, image tag and temp dir (default "cnm-e2e") */
  prefix?: string;
  /** node flags for the plugin process, e.g. ["--cpu-prof", "--cpu-prof-dir=/tmp/p"] */
  pluginNodeArgs?: string[];
  /** extra environment for the plugin process, e.g. { CNM_FIREWALL: 'off' } */
  pluginEnv?: Record<string, string>;
  /** extra `cnm daemon` arguments, e.g. ['--underlay-ip', IP] */
  pluginArgs?: string[];
  /**
   * Let dockerd manage iptables as it does by default (default false: --iptables=false --ip-forward=false
   * --ip-masq=false), with the iptables FORWARD policy DROP in place once dockerd is up. It still gets
   * --bridge=none. All of it happens in the harness's netns.
   */
  dockerIptables?: boolean;
  /** which engine (default: the host's dockerd) */
  engine?: EngineSpec;
  /**
   * No cnm child process: the test installs cnm as a managed plugin itself (managedPlugin()), which the engine then
   * starts and stops. The image is imported all the same.
   */
  noPlugin?: boolean;
}

export class DockerHarness {
  /** driver and IPAM name in docker commands; also the plugin socket's file name */
  readonly name: string;
  readonly dir: string;
  readonly socket: string;
  readonly pluginSocket: string;
  readonly stateDir: string;
  readonly image: string;
  /** the network namespace dockerd, the plugin and every container network live in */
  readonly netns: string;
  private readonly hostPathsBefore = new Set(HOST_PATHS.filter((p) => existsSync(p)));
  private dockerd?: ChildProcess;
  private plugin?: ChildProcess;
  /** own process group for dockerd and the plugin: a terminal Ctrl-C then reaches only our process */
  private readonly detached: boolean;
  private readonly pluginNodeArgs: string[];
  private readonly pluginEnv: Record<string, string>;
  private readonly pluginArgs: string[];
  private readonly dockerIptables: boolean;
  private readonly noPlugin: boolean;
  readonly engine: EngineSpec;

  private constructor(opts: HarnessOptions = {}) {
    this.detached = opts.detached ?? false;
    this.dockerIptables = opts.dockerIptables ?? false;
    this.noPlugin = opts.noPlugin ?? false;
    this.engine = opts.engine ?? ENGINES[0];
    this.pluginNodeArgs = opts.pluginNodeArgs ?? [];
    this.pluginEnv = opts.pluginEnv ?? {};
    this.pluginArgs = opts.pluginArgs ?? [];
    const rand = randomBytes(3).toString('hex');
    const prefix = opts.prefix ?? 'cnm-e2e';
    if (!/^[a-z][a-z0-9-]{0,15}$/.test(prefix)) throw new Error(`harness prefix ${JSON.stringify(prefix)}: use 1-16 of [a-z0-9-], starting with a letter`);
    this.name = `${prefix}-${rand}`;
    // short path: containerd puts sockets under the exec-root and unix paths are limited to 108 bytes
    this.dir = mkdtempSync(path.join(os.tmpdir(), `${this.name}-`));
    this.socket = path.join(this.dir, 'docker.sock');
    this.pluginSocket = path.join(PLUGIN_DIR, `${this.name}.sock`);
    this.stateDir = path.join(this.dir, 'state');
    this.image = `${this.name}-busybox:latest`;
    this.netns = this.name;
  }

  /** `docker network create` on this harness's cnm: `-d NAME --ipam-driver NAME`, then `args` (options, the name). */
  networkCreateArgs(...args: string[]): string[] {
    return ['network', 'create', '-d', this.name, '--ipam-driver', this.name, ...args];
  }

  /** A host path as the engine sees it, for `docker run -v HOST:CTR` (an engine in its own root sees the host at /.host). */
  hostPath(p: string): string {
    return this.engine.root ? path.posix.join('/.host', p) : p;
  }

  /** `cmd args` inside the engine's netns (nsenter --net: the host's mounts, so /sys/class/net is not this netns's). */
  exec(cmd: string, args: string[], timeoutMs?: number): Promise<ExecResult> {
    return run('nsenter', [`--net=/run/netns/${this.netns}`, '--', cmd, ...args], timeoutMs);
  }

  /** Make the engine's netns now (boot() does it too), for a caller that wires it up before the engine starts. */
  async ensureNetns(): Promise<void> {
    if (existsSync(`/run/netns/${this.netns}`)) return;
    for (const args of [
      ['netns', 'add', this.netns],
      ['-n', this.netns, 'link', 'set', 'lo', 'up'],
    ]) {
      const r = await run('ip', args);
      if (r.code !== 0) throw new Error(`ip ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    }
  }

  /** dockerd up, plugin up, image imported. On failure everything started so far is torn down. */
  static async start(opts?: HarnessOptions): Promise<DockerHarness> {
    const h = DockerHarness.prepare(opts);
    try {
      await h.boot();
      return h;
    } catch (err) {
      await h.stop();
      throw err;
    }
  }

  /**
   * Names and temp dir only, nothing started: a caller that must clean up on a signal holds the harness
   * before boot() so stop() can undo a half-done boot.
   */
  static prepare(opts?: HarnessOptions): DockerHarness {
    return new DockerHarness(opts);
  }

  /** dockerd, plugin, image; the caller calls stop() whatever happens. */
  async boot(): Promise<void> {
    await this.ensureNetns();
    await this.startDockerd();
    if (!this.noPlugin) await this.startPlugin();
    await buildBusyboxImage(this, this.image);
  }

  /** `docker -H unix://T/docker.sock ARGS` (no shell). */
  docker(args: string[], timeoutMs?: number): Promise<ExecResult> {
    return run(DOCKER_CLI, ['-H', `unix://${this.socket}`, ...args], timeoutMs);
  }

  /** Like docker() but throws with stderr on a non-zero exit; resolves trimmed stdout. */
  async dockerOk(args: string[], timeoutMs?: number): Promise<string> {
    const r = await this.docker(args, timeoutMs);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout.trim();
  }

  async startDockerd(): Promise<void> {
    const config = path.join(this.dir, 'daemon.json');
    if (!existsSync(config)) writeFileSync(config, '{}\n'); // never read the user's /etc/docker/daemon.json
    const log = openSync(path.join(this.dir, 'dockerd.log'), 'a');
    const dockerd = [
      'dockerd',
      '--data-root',
      path.join(this.dir, 'data'),
      '--exec-root',
      path.join(this.dir, 'exec'),
      '--pidfile',
      path.join(this.dir, 'docker.pid'),
      '-H',
      `unix://${this.socket}`,
      '--config-file',
      config,
      '--containerd-namespace',
      this.name,
      '--containerd-plugins-namespace',
      `${this.name}-plugins`,
      '--bridge=none',
      ...(this.dockerIptables ? ['--iptables=true', '--ip-forward=true', '--ip-masq=true'] : ['--iptables=false', '--ip-forward=false', '--ip-masq=false']),
    ];
    // nsenter and unshare exec (no fork): the child's pid is dockerd's
    const inRoot = this.engine.root
      ? ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', PIVOT_LAUNCH, 'cnm-engine', this.engine.root, this.dir]
      : [];
    this.dockerd = spawn('nsenter', [`--net=/run/netns/${this.netns}`, '--', ...inRoot, ...dockerd], { stdio: ['ignore', log, log], detached: this.detached });
    closeSync(log);
    const child = this.dockerd;
    await waitFor('dockerd', async () => (await this.docker(['version'], 5000)).code === 0, {
      timeoutMs: 60_000,
      intervalMs: 100,
      failFast: () => (child.exitCode !== null ? `dockerd exited ${child.exitCode}: ${this.tail('dockerd.log')}` : undefined),
    });
    if (this.dockerIptables) await this.forwardPolicyDrop();
    // the engine the test names say ran
    const version = (await this.dockerOk(['version', '--format', '{{.Server.Version}}'])).trim();
    const want = this.engine.label.replace(/^dockerd /, '');
    if (!version.startsWith(want)) throw new Error(`${this.engine.label} was asked for, but the engine started is ${version}`);
  }

  /**
   * dockerd 20.10 sets the FORWARD policy to DROP only when it turns ip_forward on itself; on a host where
   * forwarding is already on it keeps ACCEPT. Set it as dockerd does on a fresh host, so the DROP is in place.
   */
  private async forwardPolicyDrop(): Promise<void> {
    const r = await this.exec('iptables', ['-w', '-P', 'FORWARD', 'DROP']);
    if (r.code !== 0) throw new Error(`iptables -P FORWARD DROP exited ${r.code}: ${r.stderr.trim()}`);
  }

  async stopDockerd(): Promise<void> {
    const child = this.dockerd;
    if (!child) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited(child);
    clearTimeout(killer);
    this.dockerd = undefined;
    this.killContainerd();
  }

  /**
   * The engine dies as with a lost machine: SIGKILL to the plugin, dockerd, its containerd and shims (every
   * process whose command line names this harness's dir) and every process below them (the containers).
   * stop() afterwards removes what is left on disk.
   */
  async killEngine(): Promise<void> {
    const parents = new Map<number, number>();
    const roots = new Set<number>([this.dockerd?.pid, this.plugin?.pid].filter((p): p is number => p !== undefined));
    for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      try {
        const pid = Number(d);
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
        if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(this.dir)) roots.add(pid);
      } catch {
        /* exited meanwhile */
      }
    }
    const doomed = new Set(roots);
    for (let grew = true; grew;) {
      grew = false;
      for (const [pid, ppid] of parents) {
        if (!doomed.has(pid) && doomed.has(ppid)) {
          doomed.add(pid);
          grew = true;
        }
      }
    }
    for (const pid of doomed) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await Promise.all([exited(this.dockerd), exited(this.plugin)]);
    this.dockerd = undefined;
    this.plugin = undefined;
  }

  async restartDockerd(): Promise<void> {
    await this.stopDockerd();
    await this.startDockerd();
  }

  async startPlugin(): Promise<void> {
    mkdirSync(this.stateDir, { recursive: true });
    const log = openSync(path.join(this.dir, 'plugin.log'), 'a');
    const argv = [
      process.execPath,
      ...this.pluginNodeArgs,
      CLI_MAIN,
      '--state-dir',
      this.stateDir,
      'daemon',
      '--socket',
      this.pluginSocket,
      ...this.pluginArgs,
    ];
    this.plugin = spawn('nsenter', [`--net=/run/netns/${this.netns}`, '--', ...argv], {
      stdio: ['ignore', log, log],
      detached: this.detached,
      env: { ...process.env, ...this.pluginEnv },
    });
    closeSync(log);
    const child = this.plugin;
    // ready, not only bound: the daemon binds its socket first and logs this once it has reconciled and joined
    const ready = (): boolean => {
      try {
        return this.pluginLogs().some((l) => l.msg === 'cnm daemon listening' && l.pid === child.pid);
      } catch {
        return false; // a line still being written
      }
    };
    await waitFor('the cnm plugin to be ready', async () => ready() && (await socketAccepts(this.pluginSocket)), {
      timeoutMs: 20_000,
      intervalMs: 100,
      failFast: () => (child.exitCode !== null ? `plugin exited ${child.exitCode}: ${this.tail('plugin.log')}` : undefined),
    });
  }

  /** SIGKILL (like kill -9) or SIGTERM the plugin; the socket file stays behind after SIGKILL. */
  async stopPlugin(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.plugin;
    if (!child) return;
    child.kill(signal);
    await exited(child);
    this.plugin = undefined;
  }

  /** Every JSON line the plugin logged so far (across restarts). */
  pluginLogs(): Record<string, any>[] {
    const file = path.join(this.dir, 'plugin.log');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
  }

  tail(file: string, lines = 20): string {
    const p = path.join(this.dir, file);
    return existsSync(p) ? readFileSync(p, 'utf8').trim().split('\n').slice(-lines).join('\n') : '';
  }

  /** Containers, networks, plugin, dockerd, mounts, temp dir; each step runs even if an earlier one fails. */
  async stop(): Promise<void> {
    if (this.dockerd) {
      const ids = (await this.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await this.docker(['rm', '-f', ...ids]);
      // every user network: cnm's (the plugin removes its bridge) and Docker bridge ones (dockerd removes br-*)
      const nets = (await this.docker(['network', 'ls', '-q', '--filter', 'type=custom'])).stdout.split('\n').filter(Boolean);
      for (const n of nets) await this.docker(['network', 'rm', n]);
      // managed plugins a test installed: disabled and removed with their rootfs and state
      const plugins = (await this.docker(['plugin', 'ls', '-q'])).stdout.split('\n').filter(Boolean);
      for (const p of plugins) await this.docker(['plugin', 'rm', '-f', p]);
    }
    await this.stopPlugin('SIGTERM');
    await this.stopDockerd();
    try {
      unlinkSync(this.pluginSocket);
    } catch {
      /* removed by the plugin */
    }
    await this.unmountUnder(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
    this.removeCreatedHostPaths();
    if (existsSync(`/run/netns/${this.netns}`)) await run('ip', ['netns', 'del', this.netns]);
  }

  private removeCreatedHostPaths(): void {
    for (const p of HOST_PATHS) {
      if (this.hostPathsBefore.has(p) || !existsSync(p)) continue;
      try {
        if (p.endsWith('.json')) unlinkSync(p);
        else if (readdirSync(p).length === 0) rmdirSync(p);
      } catch {
        /* in use by someone else: leave it */
      }
    }
  }

  /** dockerd stops its own containerd; after a SIGKILL of dockerd that containerd would linger. */
  private killContainerd(): void {
    const pidFile = path.join(this.dir, 'exec', 'containerd', 'containerd.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.dir)) process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  private async unmountUnder(dir: string): Promise<void> {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => !!m && m.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await run('umount', ['-l', m]);
  }
}
