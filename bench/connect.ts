/**
 * Connect benchmark (root): for each N, N sequential sandbox create + connect operations on one bridge network
 * with cnm's in-process Engine (temp state dir, real kernel), then N disconnect + sandbox remove; then the same
 * sequence with `ip` commands as the baseline. Prints median and p99 ms per operation and the cnm/ip ratio.
 *
 *   node dist/bench/connect.js [--json] [--n 10,100,1000] [--warmup 5] [--skip-ip]
 *
 * Runs under `unshare --mount --net` (see lib/isolate.ts): nothing it makes is visible on the host, and the
 * kernel removes all of it when the process ends, however it ends.
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { runCnmSequence } from './lib/cnm-sequence';
import { privateNetnsDir, runIsolatedBenchmark, StateDirs } from './lib/isolate';
import { runIpSequence } from './lib/ip-sequence';
import { formatTable, ratios, summarizeAll, type RunResult } from './lib/stats';

const USAGE = 'usage: node dist/bench/connect.js [--json] [--n 10,100,1000] [--warmup 5] [--skip-ip]';
/** the kernel allows 1024 ports per bridge (BR_MAX_PORTS); warm-up sandboxes are gone before the measured ones start */
const MAX_N = 1000;

interface Options {
  json: boolean;
  ns: number[];
  warmup: number;
  skipIp: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      n: { type: 'string', default: '10,100,1000' },
      warmup: { type: 'string', default: '5' },
      'skip-ip': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const ns = values.n!.split(',').map((s) => Number(s.trim()));
  for (const n of ns) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_N) throw new Error(`--n: ${JSON.stringify(values.n)} must list integers 1..${MAX_N}`);
  }
  const warmup = Number(values.warmup);
  if (!Number.isInteger(warmup) || warmup < 0 || warmup > 20) throw new Error(`--warmup ${values.warmup} must be an integer 0..20`);
  return { json: values.json!, ns, warmup, skipIp: values['skip-ip']! };
}

/** What the numbers were measured on. */
function machine(stateDirParent: string): Record<string, unknown> {
  const cpus = os.cpus();
  let distro = 'unknown';
  try {
    distro = /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? distro;
  } catch {
    /* not fatal: the description is informational */
  }
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length > 2);
  const fsOf = mounts
    .filter((f) => stateDirParent === f[1] || stateDirParent.startsWith(f[1].endsWith('/') ? f[1] : `${f[1]}/`))
    .sort((a, b) => b[1].length - a[1].length)[0];
  return {
    cpu: cpus[0]?.model.trim(),
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    distro,
    node: process.version,
    stateDirFs: fsOf ? `${fsOf[2]} (${fsOf[0]}) at ${fsOf[1]}` : 'unknown',
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function benchmark(opts: Options): Promise<void> {
  const dirs = new StateDirs();
  const bail = (code: number) => {
    dirs.removeAll();
    process.exit(code);
  };
  process.on('SIGINT', () => bail(130));
  process.on('SIGTERM', () => bail(143));
  StateDirs.sweepStale();
  privateNetnsDir();
  const results: RunResult[] = [];
  const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
  try {
    for (const n of opts.ns) {
      const stateDir = dirs.make();
      log(`N=${n}: cnm...`);
      const cnm = await runCnmSequence({ n, prefix: `cb${n}`, stateDir }, opts.warmup);
      dirs.remove(stateDir);
      const result: RunResult = { n, cnm: summarizeAll(cnm.timings), cnmCpu: summarizeAll(cnm.cpu) };
      // let the kernel finish destroying the removed netns (a workqueue) before the next phase
      await sleep(500 + n);
      if (!opts.skipIp) {
        log(`N=${n}: ip...`);
        result.ip = summarizeAll(runIpSequence({ n, prefix: `ib${n}`, bridge: 'brbench', gateway: cnm.gateway }, opts.warmup));
        result.ratio = ratios(result.cnm, result.ip);
        await sleep(500 + n);
      }
      results.push(result);
    }
  } finally {
    dirs.removeAll();
  }
  const command = `node dist/bench/connect.js ${process.argv.slice(2).join(' ')}`.trim();
  if (opts.json) {
    console.log(JSON.stringify({ command, unit: 'ms', machine: machine(os.tmpdir()), warmup: opts.warmup, results }));
  } else {
    const m = machine(os.tmpdir());
    console.log(`${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.distro}, kernel ${m.kernel}, node ${m.node}; state dir on ${m.stateDirFs}`);
    console.log(`ms per operation (cnm cpu: median CPU time of the cnm process, user + system), ${opts.warmup} unmeasured warm-up rounds per run\n`);
    console.log(formatTable(results));
  }
}

runIsolatedBenchmark(__filename, USAGE, parseOptions, benchmark);
