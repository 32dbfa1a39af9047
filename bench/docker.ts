/**
 * `docker run` and `docker network connect/disconnect` on a cnm network vs a Docker bridge network vs
 * `--network none`, in one run against a private dockerd (test/helpers/docker-harness.ts: own data-root,
 * exec-root, socket; plugin `node dist/cnm.js daemon` on its own socket and state dir).
 *   node dist/bench/docker.js [--n 20] [--json] [--firewall] [--profile-plugin DIR]   (root; progress on stderr, result on stdout)
 * Runs are interleaved round-robin (cnm, bridge, none, cnm, ...) so drift hits all three alike. The
 * network cost ratio is (cnm − none) / (bridge − none) on medians; target ≤ 1.0. Plugin-side time per
 * call comes from the daemon's JSON log lines. Everything started is removed, also on error or Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DockerHarness, e2eUnavailable } from '../test/helpers/docker-harness';
import { costRatio, pairedCost, pluginCallStats, summarize, table, type CallStats, type Summary } from './docker-stats';

interface Args {
  n: number;
  json: boolean;
  /** write a V8 CPU profile of the plugin into this folder (when it stops) */
  profileDir?: string;
  /** let cnm manage its nft firewall (NAT, isolation); off by default, like dockerd's --iptables=false here */
  firewall: boolean;
}

const USAGE = 'usage: docker.js [--n 20] [--json] [--firewall] [--profile-plugin DIR]';

function parseArgs(argv: string[]): Args {
  const args: Args = { n: 20, json: false, firewall: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--firewall') args.firewall = true;
    else if (a === '--profile-plugin') {
      if (!argv[i + 1]) throw new Error(`--profile-plugin needs a folder; ${USAGE}`);
      args.profileDir = path.resolve(argv[++i]);
    } else if (a === '--n' || a.startsWith('--n=')) {
      const v = a === '--n' ? argv[++i] : a.slice(4);
      if (!/^\d+$/.test(v ?? '') || Number(v) < 1 || Number(v) > 10_000) throw new Error(`--n ${JSON.stringify(v)}: give a whole number 1..10000`);
      args.n = Number(v);
    } else throw new Error(`unknown argument ${JSON.stringify(a)}; ${USAGE}`);
  }
  return args;
}

const KINDS = ['cnm', 'bridge', 'none'] as const;
type Kind = (typeof KINDS)[number];

class Aborted extends Error {}
let aborted: NodeJS.Signals | undefined;
const checkAbort = (): void => {
  if (aborted) throw new Aborted(`interrupted by ${aborted}`);
};
const progress = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};

export interface DockerBenchResult {
  n: number;
  env: { kernel: string; node: string; dockerd: string; cpus: number; cnmFirewall: boolean };
  run: Record<Kind, Summary>;
  /** wall ms of every measured `docker run`, in round order (round i: cnm[i], bridge[i], none[i]) */
  runSamplesMs: Record<Kind, number[]>;
  networkCostMs: { cnm: number; bridge: number };
  ratio: number | undefined;
  /** the ratio from per-round differences, and the median per-round cnm − bridge (see pairedCost) */
  paired: { ratio: number | undefined; cnmOverBridgeMs: number };
  target: number;
  connect: Record<'cnm' | 'bridge', { connect: Summary; disconnect: Summary; pair: Summary }>;
  connectAnchor: string;
  plugin: { calls: CallStats[]; perDockerRunMs: number; perConnectPairMs: number };
}

async function timed(h: DockerHarness, args: string[]): Promise<number> {
  const t = performance.now();
  await h.dockerOk(args, 60_000);
  return performance.now() - t;
}

/** A subnet 10.22x.R.0/24 unused on the host (never 10.230+, which the e2e tests use). */
async function freeSubnets(h: DockerHarness, count: number): Promise<string[]> {
  const routes = (await h.exec('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout;
  const out: string[] = [];
  const base = randomBytes(1)[0];
  for (let i = 0; out.length < count && i < 256; i++) {
    const third = (base + i) % 256;
    const sn = `10.${220 + out.length}.${third}.0/24`;
    if (!routes.includes(`10.${220 + out.length}.${third}.`)) out.push(sn);
  }
  if (out.length < count) throw new Error(`no free 10.22x.N.0/24 subnets for ${h.name}`);
  return out;
}

/** Each network really gives (or, for none, does not give) the container an address in its subnet. */
async function checkNetworks(h: DockerHarness, nets: Record<Kind, string>, subnets: Record<Kind, string>): Promise<void> {
  for (const kind of KINDS) {
    const out = await h.dockerOk(['run', '--rm', '--network', nets[kind], h.image, 'ip', '-o', '-4', 'addr', 'show']);
    const prefix = subnets[kind].replace(/0\/24$/, '');
    const has = out.includes(`inet ${prefix}`);
    if (kind !== 'none' && !has) throw new Error(`a container on the ${kind} network (${subnets[kind]}) got no address in it:\n${out}`);
    if (kind === 'none' && /\beth\d/.test(out)) throw new Error(`a --network none container has an interface:\n${out}`);
  }
}

async function benchRuns(h: DockerHarness, nets: Record<Kind, string>, n: number): Promise<Record<Kind, number[]>> {
  const samples: Record<Kind, number[]> = { cnm: [], bridge: [], none: [] };
  for (let i = 0; i < n; i++) {
    for (const kind of KINDS) {
      checkAbort();
      samples[kind].push(await timed(h, ['run', '--rm', '--network', nets[kind], h.image, 'true']));
    }
    if ((i + 1) % 5 === 0) progress(`docker run round ${i + 1}/${n}`);
  }
  return samples;
}

/**
 * The container that gets connected and disconnected: on `--network none` when dockerd lets such a
 * container join other networks, otherwise on an extra Docker bridge network (the same for both drivers).
 * Connects and disconnects once per driver as a warm-up.
 */
async function startAnchor(h: DockerHarness, nets: Record<Kind, string>, spareSubnet: string): Promise<{ id: string; on: string }> {
  let on = 'none';
  let id = await h.dockerOk(['run', '-d', '--network', on, h.image, 'sleep', '3600']);
  const probe = await h.docker(['network', 'connect', nets.cnm, id]);
  if (probe.code !== 0) {
    // dockerd 20.10: "container cannot be connected to multiple networks with one of the networks in private (none) mode"
    progress('the connect/disconnect container sits on an extra Docker bridge network (dockerd does not let a --network none container join others)');
    await h.dockerOk(['rm', '-f', id]);
    on = `${h.name}-anchor`;
    await h.dockerOk(['network', 'create', '-d', 'bridge', '--subnet', spareSubnet, on]);
    id = await h.dockerOk(['run', '-d', '--network', on, h.image, 'sleep', '3600']);
    await h.dockerOk(['network', 'connect', nets.cnm, id]);
  }
  await h.dockerOk(['network', 'disconnect', nets.cnm, id]);
  await h.dockerOk(['network', 'connect', nets.bridge, id]);
  await h.dockerOk(['network', 'disconnect', nets.bridge, id]);
  return { id, on };
}

async function benchConnect(h: DockerHarness, nets: Record<'cnm' | 'bridge', string>, container: string, n: number) {
  const s = { cnm: { connect: [] as number[], disconnect: [] as number[] }, bridge: { connect: [] as number[], disconnect: [] as number[] } };
  for (let i = 0; i < n; i++) {
    for (const kind of ['cnm', 'bridge'] as const) {
      checkAbort();
      s[kind].connect.push(await timed(h, ['network', 'connect', nets[kind], container]));
      s[kind].disconnect.push(await timed(h, ['network', 'disconnect', nets[kind], container]));
    }
    if ((i + 1) % 5 === 0) progress(`connect/disconnect round ${i + 1}/${n}`);
  }
  const out = {} as DockerBenchResult['connect'];
  for (const kind of ['cnm', 'bridge'] as const) {
    const pair = s[kind].connect.map((c, i) => c + s[kind].disconnect[i]);
    out[kind] = { connect: summarize(s[kind].connect), disconnect: summarize(s[kind].disconnect), pair: summarize(pair) };
  }
  return out;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const sumMs = (calls: CallStats[]): number => calls.reduce((a, c) => a + c.totalMs, 0);

async function runBench(h: DockerHarness, n: number, cnmFirewall: boolean): Promise<DockerBenchResult> {
  progress(`starting dockerd and the plugin (${h.name}) under ${h.dir}`);
  await h.boot();
  checkAbort();
  const [snCnm, snBridge, snAnchor] = await freeSubnets(h, 3);
  const nets: Record<Kind, string> = { cnm: `${h.name}-cnm`, bridge: `${h.name}-bridge`, none: 'none' };
  await h.dockerOk([
    'network',
    'create',
    '-d',
    h.name,
    '--ipam-driver',
    h.name,
    '--subnet',
    snCnm,
    '-o',
    `com.docker.network.bridge.name=cb${h.name.slice(-6)}`,
    nets.cnm,
  ]);
  await h.dockerOk(['network', 'create', '-d', 'bridge', '--subnet', snBridge, nets.bridge]);
  await checkNetworks(h, nets, { cnm: snCnm, bridge: snBridge, none: '' });
  progress('warm-up: 2 rounds');
  await benchRuns(h, nets, 2);

  let mark = h.pluginLogs().length;
  progress(`${n} interleaved rounds of docker run --rm (cnm, bridge, none)`);
  const runs = await benchRuns(h, nets, n);
  const runLogs = h.pluginLogs().slice(mark);

  const anchor = await startAnchor(h, nets, snAnchor);
  mark = h.pluginLogs().length;
  progress(`${n} interleaved connect/disconnect pairs (cnm, bridge)`);
  const connect = await benchConnect(h, { cnm: nets.cnm, bridge: nets.bridge }, anchor.id, n);
  const connLogs = h.pluginLogs().slice(mark);

  const runStats = { cnm: summarize(runs.cnm), bridge: summarize(runs.bridge), none: summarize(runs.none) };
  const runCalls = pluginCallStats(runLogs);
  return {
    n,
    env: {
      kernel: os.release(),
      node: process.version,
      dockerd: await h.dockerOk(['version', '-f', '{{.Server.Version}}']),
      cpus: os.cpus().length,
      cnmFirewall,
    },
    run: runStats,
    runSamplesMs: { cnm: runs.cnm.map(r3), bridge: runs.bridge.map(r3), none: runs.none.map(r3) },
    networkCostMs: { cnm: runStats.cnm.medianMs - runStats.none.medianMs, bridge: runStats.bridge.medianMs - runStats.none.medianMs },
    ratio: costRatio(runStats.cnm.medianMs, runStats.bridge.medianMs, runStats.none.medianMs),
    paired: pairedCost(runs.cnm, runs.bridge, runs.none),
    target: 1.0,
    connect,
    connectAnchor: anchor.on,
    plugin: {
      calls: pluginCallStats([...runLogs, ...connLogs]),
      perDockerRunMs: sumMs(runCalls) / n,
      perConnectPairMs: sumMs(pluginCallStats(connLogs)) / n,
    },
  };
}

export function formatResult(r: DockerBenchResult): string {
  const s = (x: Summary): number[] => [x.medianMs, x.p99Ms, x.minMs, x.maxMs];
  const ratio =
    r.ratio === undefined
      ? 'n/a (bridge costs nothing over none)'
      : `${r.ratio.toFixed(2)} (target ≤ ${r.target.toFixed(1)}${r.ratio <= r.target ? ', met' : ', MISSED'})`;
  return [
    `dockerd ${r.env.dockerd}, kernel ${r.env.kernel}, node ${r.env.node}, ${r.env.cpus} CPUs; N = ${r.n} per case; cnm firewall ${r.env.cnmFirewall ? 'on' : 'off (as dockerd --iptables=false)'}`,
    '',
    `docker run --rm IMG true, interleaved (ms)`,
    table([['network', 'median', 'p99', 'min', 'max'], ...KINDS.map((k) => [k, ...s(r.run[k])])]),
    '',
    `network cost (median − none): cnm ${r.networkCostMs.cnm.toFixed(1)} ms, bridge ${r.networkCostMs.bridge.toFixed(1)} ms`,
    `ratio (cnm − none) / (bridge − none): ${ratio}`,
    `per-round pairs: ratio ${r.paired.ratio?.toFixed(2) ?? 'n/a'}, cnm − bridge ${r.paired.cnmOverBridgeMs.toFixed(1)} ms (median over rounds)`,
    '',
    `docker network connect / disconnect on a running container (on ${r.connectAnchor}), interleaved (ms)`,
    table([
      ['driver / op', 'median', 'p99', 'min', 'max'],
      ...(['cnm', 'bridge'] as const).flatMap((k) => (['connect', 'disconnect', 'pair'] as const).map((op) => [`${k} ${op}`, ...s(r.connect[k][op])])),
    ]),
    '',
    `plugin-side time per call, measured phases (ms)`,
    table([['method', 'calls', 'p50', 'p99', 'total'], ...r.plugin.calls.map((c) => [c.method, String(c.count), c.p50Ms, c.p99Ms, c.totalMs])]),
    `plugin-side total: ${r.plugin.perDockerRunMs.toFixed(1)} ms per cnm docker run, ${r.plugin.perConnectPairMs.toFixed(1)} ms per connect+disconnect pair`,
  ].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const why = e2eUnavailable();
  if (why) throw new Error(`cannot run: ${why}`);
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!aborted) progress(`${sig}: stopping after the current docker command, then cleaning up`);
    else progress(`${sig}: still cleaning up, please wait`);
    aborted ??= sig;
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, onSignal);
  // own process groups: a terminal Ctrl-C must not kill dockerd before its networks are removed
  const h = DockerHarness.prepare({
    detached: true,
    prefix: 'cnm-bench',
    pluginNodeArgs: args.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${args.profileDir}`] : [],
    // the harness's dockerd runs with --iptables=false: Docker's bridge programs no firewall, so neither does cnm
    pluginEnv: args.firewall ? {} : { CNM_FIREWALL: 'off' },
  });
  let result: DockerBenchResult | undefined;
  try {
    result = await runBench(h, args.n, args.firewall);
  } finally {
    progress('cleaning up: containers, networks, plugin, dockerd, temp dir');
    await h.stop();
    for (const sig of signals) process.off(sig, onSignal);
  }
  process.stdout.write(`${args.json ? JSON.stringify(result, null, 2) : formatResult(result)}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    // a Ctrl-C also reaches the docker CLI in flight, which then fails: report the interruption, not that
    if (aborted) progress(`interrupted by ${aborted}; everything started was removed`);
    else progress(`failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exitCode = aborted ? 130 : 1;
  });
}
