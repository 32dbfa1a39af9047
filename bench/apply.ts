/**
 * Topology benchmark (root): a topology of N sandboxes (default 1000, spread over bridges of at most 500 ports)
 * made by one `cnm apply -f` process, applied again (nothing to change), and removed by `cnm delete -f`; next to the
 * same sandboxes made one CLI process at a time (`cnm sandbox create` + `cnm connect`), measured on a sample and
 * extrapolated to N.
 *
 *   node dist/bench/apply.js [--json] [--n 1000] [--sample 50]
 *
 * Runs under `unshare --mount --net` like bench/connect (nothing shows on the host).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { privateNetnsDir, runIsolatedBenchmark, StateDirs } from './lib/isolate';
import { percentile, round } from './lib/stats';

const USAGE = 'usage: node dist/bench/apply.js [--json] [--n 1000] [--sample 50]';
const CNM = join(__dirname, '../cnm.js');
const PER_BRIDGE = 500;

function parseOptions(argv: string[]): { json: boolean; n: number; sample: number } {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      n: { type: 'string', default: '1000' },
      sample: { type: 'string', default: '50' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const n = Number(values.n);
  const sample = Number(values.sample);
  if (!Number.isInteger(n) || n < 1 || n > 4000) throw new Error(`--n ${values.n} must be an integer 1..4000`);
  if (!Number.isInteger(sample) || sample < 3 || sample > 500) throw new Error(`--sample ${values.sample} must be an integer 3..500`);
  return { json: values.json!, n, sample };
}

/** N sandboxes, each on one of ceil(N / 500) networks of a /22 each. */
export function topologyOf(n: number): string {
  const nets = Math.ceil(n / PER_BRIDGE);
  const lines = ['name: bench', 'networks:'];
  for (let b = 0; b < nets; b++) lines.push(`  bn${b}: { subnet: 10.${200 + b}.0.0/22 }`);
  lines.push('sandboxes:');
  for (let i = 0; i < n; i++) lines.push(`  sb${i}: { networks: [bn${Math.floor(i / PER_BRIDGE)}] }`);
  return `${lines.join('\n')}\n`;
}

function timed(args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, [CNM, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`cnm ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr?.toString().trim()}`);
  return ms;
}

function benchmark(opts: { json: boolean; n: number; sample: number }): void {
  const dirs = new StateDirs();
  const env = { ...process.env, CNM_FIREWALL: 'off' };
  privateNetnsDir();
  const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
  try {
    const stateDir = dirs.make();
    const file = join(stateDir, 'bench.yaml');
    writeFileSync(file, topologyOf(opts.n));
    log(`apply of ${opts.n} sandboxes...`);
    const apply = timed(['--state-dir', stateDir, 'apply', '-f', file], env);
    const again = timed(['--state-dir', stateDir, 'apply', '-f', file], env);
    log('delete...');
    const del = timed(['--state-dir', stateDir, 'delete', '-f', file], env);
    dirs.remove(stateDir);

    const cliDir = dirs.make();
    log(`CLI sample of ${opts.sample}...`);
    timed(['--state-dir', cliDir, 'network', 'create', 'cn', '--subnet', '10.210.0.0/22'], env);
    const pairs: number[] = [];
    const removes: number[] = [];
    for (let i = 0; i < opts.sample; i++)
      pairs.push(timed(['--state-dir', cliDir, 'sandbox', 'create', `c${i}`], env) + timed(['--state-dir', cliDir, 'connect', 'cn', `c${i}`], env));
    for (let i = 0; i < opts.sample; i++) removes.push(timed(['--state-dir', cliDir, 'sandbox', 'rm', `c${i}`], env));
    timed(['--state-dir', cliDir, 'network', 'rm', 'cn'], env);
    const perPair = percentile(pairs, 50);
    const perRemove = percentile(removes, 50);
    const result = {
      n: opts.n,
      sample: opts.sample,
      applyMs: round(apply, 0),
      reapplyMs: round(again, 0),
      deleteMs: round(del, 0),
      cliPairMedianMs: round(perPair, 1),
      cliRemoveMedianMs: round(perRemove, 1),
      cliCreateExtrapolatedMs: round(perPair * opts.n, 0),
      cliRemoveExtrapolatedMs: round(perRemove * opts.n, 0),
      createRatio: round(apply / (perPair * opts.n), 3),
      removeRatio: round(del / (perRemove * opts.n), 3),
    };
    if (opts.json) {
      console.log(JSON.stringify({ command: `node dist/bench/apply.js ${process.argv.slice(2).join(' ')}`.trim(), unit: 'ms', result }));
      return;
    }
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(`${opts.n} sandboxes on ${Math.ceil(opts.n / PER_BRIDGE)} bridge network(s), whole processes, wall time\n`);
    console.log(
      `make:   one cnm apply ${s(apply)}   vs ${opts.n} x (sandbox create + connect) ${s(result.cliCreateExtrapolatedMs)} (${perPair.toFixed(0)} ms a pair, sample of ${opts.sample})   ratio ${result.createRatio}`,
    );
    console.log(`again:  cnm apply with nothing to change ${s(again)}`);
    console.log(
      `remove: one cnm delete ${s(del)}   vs ${opts.n} x sandbox rm ${s(result.cliRemoveExtrapolatedMs)} (${perRemove.toFixed(0)} ms each)   ratio ${result.removeRatio}`,
    );
  } finally {
    dirs.removeAll();
  }
}

runIsolatedBenchmark(__filename, USAGE, parseOptions, benchmark);
