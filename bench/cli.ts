/**
 * CLI benchmark (root): what a person at the shell waits for. Every measured command is a whole process, timed
 * from spawn to exit, in interleaved rounds (one of each per round, so drift and noise hit all alike):
 * `node -e 0` (the floor), `cnm --version`, `network ls`, `network inspect`, `sandbox create`, `connect`,
 * `disconnect`, `sandbox rm`, the same connect/disconnect done with `ip` commands, and `docker network
 * connect`/`disconnect` when a dockerd answers on /var/run/docker.sock (with --docker-network NAME).
 *
 *   node dist/bench/cli.js [--json] [--rounds 10] [--docker-network NAME --docker-container NAME]
 *
 * Runs under `unshare --mount --net` like bench/connect (nothing shows on the host; the kernel drops it all at
 * exit). Targets: every cnm command within 2x `node -e 0` plus its own kernel time.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { privateNetnsDir, runIsolatedBenchmark, StateDirs } from './lib/isolate';
import { percentile, round } from './lib/stats';

const USAGE = 'usage: node dist/bench/cli.js [--json] [--rounds 10] [--docker-network NAME --docker-container NAME]';
const CNM = join(__dirname, '../cnm.js');

interface Options {
  json: boolean;
  rounds: number;
  dockerNetwork?: string;
  dockerContainer?: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '10' },
      'docker-network': { type: 'string' },
      'docker-container': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 3 || rounds > 200) throw new Error(`--rounds ${values.rounds} must be an integer 3..200`);
  if (!!values['docker-network'] !== !!values['docker-container']) throw new Error('--docker-network and --docker-container go together');
  return { json: values.json!, rounds, dockerNetwork: values['docker-network'], dockerContainer: values['docker-container'] };
}

/** Wall time of one process in ms; throws with its stderr when it fails. */
function timeProcess(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr?.toString().trim()}`);
  return ms;
}

/** The connect and disconnect of one sandbox as a shell script does it with iproute2 (see lib/ip-sequence.ts). */
function ipConnect(ns: string, veth: string, addr: string, env: NodeJS.ProcessEnv): number {
  let ms = timeProcess('ip', ['link', 'add', veth, 'master', 'brcli', 'up', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns], env);
  ms += timeProcess('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0'], env);
  ms += timeProcess('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'], env);
  ms += timeProcess('ip', ['-n', ns, 'route', 'add', 'default', 'via', '10.251.0.1'], env);
  return ms;
}

interface Row {
  command: string;
  medianMs: number;
  p99Ms: number;
  /** median / median of `node -e 0` */
  xNode: number;
}

function benchmark(opts: Options): void {
  const dirs = new StateDirs();
  const stateDir = dirs.make();
  const env = { ...process.env, CNM_FIREWALL: 'off' };
  const cnm = (...args: string[]) => [process.execPath, [CNM, '--state-dir', stateDir, ...args]] as const;
  const samples = new Map<string, number[]>();
  const add = (name: string, ms: number) => samples.set(name, [...(samples.get(name) ?? []), ms]);
  const docker = opts.dockerNetwork ? ['/usr/bin/docker', opts.dockerNetwork, opts.dockerContainer!] : undefined;
  privateNetnsDir();
  try {
    timeProcess(...cnm('network', 'create', 'bn', '--subnet', '10.250.0.0/24'), env);
    timeProcess('ip', ['link', 'add', 'brcli', 'type', 'bridge'], env);
    timeProcess('ip', ['addr', 'add', '10.251.0.1/24', 'dev', 'brcli'], env);
    timeProcess('ip', ['link', 'set', 'brcli', 'up'], env);
    for (let r = 0; r < opts.rounds + 1; r++) {
      // round 0 warms the page cache and is not counted
      const keep = r > 0 ? add : () => undefined;
      const sb = `s${r}`;
      keep('node -e 0', timeProcess(process.execPath, ['-e', '0'], env));
      keep('cnm --version', timeProcess(...cnm('--version'), env));
      keep('cnm network ls', timeProcess(...cnm('network', 'ls'), env));
      keep('cnm network inspect', timeProcess(...cnm('network', 'inspect', 'bn'), env));
      keep('cnm sandbox create', timeProcess(...cnm('sandbox', 'create', sb), env));
      keep('cnm connect', timeProcess(...cnm('connect', 'bn', sb), env));
      keep('cnm disconnect', timeProcess(...cnm('disconnect', 'bn', sb), env));
      keep('cnm sandbox rm', timeProcess(...cnm('sandbox', 'rm', sb), env));
      const ns = `i${r}`;
      keep('ip netns add', timeProcess('ip', ['netns', 'add', ns], env));
      keep('ip: connect (4 commands)', ipConnect(ns, `vcli${r}`, `10.251.0.${r + 10}`, env));
      keep('ip: disconnect (link del)', timeProcess('ip', ['link', 'del', `vcli${r}`], env));
      keep('ip netns del', timeProcess('ip', ['netns', 'del', ns], env));
      if (docker) {
        keep('docker network connect', timeProcess(docker[0], ['network', 'connect', docker[1], docker[2]], process.env));
        keep('docker network disconnect', timeProcess(docker[0], ['network', 'disconnect', docker[1], docker[2]], process.env));
      }
    }
    timeProcess(...cnm('network', 'rm', 'bn'), env);
  } finally {
    dirs.removeAll();
  }
  const floor = percentile(samples.get('node -e 0')!, 50);
  const rows: Row[] = [...samples].map(([command, ms]) => ({
    command,
    medianMs: round(percentile(ms, 50), 1),
    p99Ms: round(percentile(ms, 99), 1),
    xNode: round(percentile(ms, 50) / floor, 2),
  }));
  const commandLine = `node dist/bench/cli.js ${process.argv.slice(2).join(' ')}`.trim();
  if (opts.json) {
    console.log(JSON.stringify({ command: commandLine, unit: 'ms', rounds: opts.rounds, docker: !!docker, rows }));
    return;
  }
  console.log(`whole processes, ${opts.rounds} interleaved rounds (+1 unmeasured), wall ms${docker ? '' : '; no --docker-network: docker rows left out'}\n`);
  const w = Math.max(...rows.map((r) => r.command.length));
  console.log(`${'command'.padEnd(w)}  median      p99   x node -e 0`);
  for (const r of rows)
    console.log(`${r.command.padEnd(w)}  ${String(r.medianMs).padStart(6)}  ${String(r.p99Ms).padStart(7)}  ${String(r.xNode).padStart(6)}`);
}

runIsolatedBenchmark(__filename, USAGE, parseOptions, benchmark);
