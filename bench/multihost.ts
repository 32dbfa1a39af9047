/**
 * Multi-host benchmark on the simulated cluster of test/integration/multihost/harness.ts (2 hosts, etcd on a test
 * underlay, nothing leaves the test namespaces):
 *   1. reachability latency: from `cnm connect` returning on host A until a sandbox on host B gets a ping reply
 *      from the new endpoint (p50/p99 over --count endpoints, default 100); includes one ping process start, and a
 *      failed probe costs its 50 ms wait, so the resolution is about 50 ms once the first probe misses;
 *   2. TCP throughput with iperf3 (Debian's iperf3), container-to-container across hosts (vxlan) vs
 *      underlay-to-underlay, in the same run, rounds interleaved, medians.
 * Usage (root, after `npx tsc`): node dist/bench/multihost.js [--count N] [--seconds S] [--streams N] [--rounds N] [--json]
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { percentile, round } from './lib/stats';
import { run, SimCluster, type SimHost } from '../test/integration/multihost/harness';

interface Args {
  count: number;
  seconds: number;
  streams: number;
  rounds: number;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { count: 100, seconds: 3, streams: 1, rounds: 7, json: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') a.json = true;
    else if (argv[i] === '--count') a.count = Number(argv[++i]);
    else if (argv[i] === '--seconds') a.seconds = Number(argv[++i]);
    else if (argv[i] === '--streams') a.streams = Number(argv[++i]);
    else if (argv[i] === '--rounds') a.rounds = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}: use --count N --seconds S --streams N --rounds N --json`);
  }
  if (!(a.count >= 1 && a.seconds > 0 && Number.isInteger(a.streams) && a.streams >= 1 && Number.isInteger(a.rounds) && a.rounds >= 1)) {
    throw new Error('--count and --rounds must be >= 1, --seconds > 0, --streams an integer >= 1');
  }
  return a;
}

/** TCP bits/s from an iperf3 client in netns `from` to an iperf3 server in netns `to` bound to `ip` (one test). */
async function iperf(to: string, from: string, ip: string, seconds: number, streams: number): Promise<number> {
  // client and server pinned to different CPUs, the same for both paths: unpinned, where the scheduler puts them
  // moves a run by more than the overlay costs
  const pin = (cpu: number): string[] => (os.cpus().length >= 2 ? ['taskset', '-c', String(cpu)] : []);
  const server = spawn('nsenter', [`--net=/run/netns/${to}`, ...pin(1), 'iperf3', '--server', '--one-off', '--forceflush', '--bind', ip, '--port', '5201'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', (d: Buffer) => (d.toString().includes('listening') ? resolve() : undefined));
      server.once('exit', (code) => reject(new Error(`iperf3 server exited ${code}`)));
    });
    const client = await run(
      'nsenter',
      [`--net=/run/netns/${from}`, ...pin(0), 'iperf3', '--client', ip, '--port', '5201', '--time', String(seconds), '--parallel', String(streams), '--json'],
      {
        timeoutMs: (seconds + 20) * 1000,
      },
    );
    if (client.code !== 0) throw new Error(`iperf3 client: ${client.stderr || client.stdout}`);
    const report = JSON.parse(client.stdout) as { end: { sum_received: { bits_per_second: number } } };
    return report.end.sum_received.bits_per_second;
  } finally {
    server.kill('SIGTERM');
  }
}

async function reachMs(c: SimCluster, a: SimHost, net: string, probe: string, i: number): Promise<number> {
  const sb = c.sandbox(`r${i}`);
  await a.cnmOk('sandbox', 'create', sb);
  const out = await a.cnmOk('connect', net, sb);
  const t0 = process.hrtime.bigint();
  const ip = out.trim().split(/\s+/)[1].split('/')[0];
  for (;;) {
    if ((await c.inSandbox(probe, 'ping', ['-c', '1', '-W', '0.05', ip])).code === 0) break;
    if (Number(process.hrtime.bigint() - t0) > 30e9) throw new Error(`endpoint ${ip} unreachable from host B after 30 s`);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await a.cnmOk('sandbox', 'rm', sb);
  return ms;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const c = new SimCluster();
  // Ctrl-C or a timeout: the cluster's namespaces, links and etcd go all the same
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void c.stop().finally(() => process.exit(130));
    });
  }
  try {
    await c.start(2);
    const [a, b] = c.hosts;
    const net = `${c.prefix}n`;
    await a.cnmOk('network', 'create', net, '--driver', 'vxlan', '--subnet', '10.240.0.0/16');
    const probe = c.sandbox('probe');
    await b.cnmOk('sandbox', 'create', probe);
    const probeIp = (await b.cnmOk('connect', net, probe)).trim().split(/\s+/)[1].split('/')[0];
    const lat: number[] = [];
    for (let i = 0; i < args.count; i++) lat.push(await reachMs(c, a, net, probe, i));
    const sender = c.sandbox('tx');
    await a.cnmOk('sandbox', 'create', sender);
    await a.cnmOk('connect', net, sender);
    // interleaved rounds, medians: both paths see the same machine noise
    const overlays: number[] = [];
    const underlays: number[] = [];
    for (let r = 0; r < args.rounds; r++) {
      overlays.push(await iperf(probe, sender, probeIp, args.seconds, args.streams));
      underlays.push(await iperf(b.netns, a.netns, b.ip, args.seconds, args.streams));
    }
    const overlay = percentile(overlays, 50);
    const underlay = percentile(underlays, 50);
    const perRound = overlays.map((o, i) => o / underlays[i]).sort((x, y) => x - y);
    const result = {
      endpoints: args.count,
      reachMs: { p50: round(percentile(lat, 50)), p99: round(percentile(lat, 99)), max: round(Math.max(...lat)) },
      streams: args.streams,
      rounds: args.rounds,
      throughputMbit: { overlay: round(overlay / 1e6, 1), underlay: round(underlay / 1e6, 1) },
      ratio: round(overlay / underlay, 3),
      roundRatios: { min: round(perRound[0], 3), max: round(perRound[perRound.length - 1], 3) },
    };
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      process.stdout.write(
        [
          `reachability after connect (${args.count} endpoints, host A -> host B ping):`,
          `  p50 ${result.reachMs.p50} ms   p99 ${result.reachMs.p99} ms   max ${result.reachMs.max} ms`,
          `TCP throughput (iperf3, ${args.seconds} s, ${args.streams} stream(s), median of ${args.rounds} interleaved rounds):`,
          `  container -> container across hosts (vxlan)  ${result.throughputMbit.overlay} Mbit/s`,
          `  underlay -> underlay                        ${result.throughputMbit.underlay} Mbit/s`,
          `  ratio of the medians                        ${result.ratio}   (per round ${result.roundRatios.min} .. ${result.roundRatios.max})`,
        ].join('\n') + '\n',
      );
    }
  } finally {
    await c.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench/multihost: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
