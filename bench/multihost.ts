/**
 * Multi-host benchmark on the simulated cluster of test/integration/multihost/harness.ts (2 hosts, etcd on a test
 * underlay, nothing leaves the test namespaces):
 *   1. reachability latency: from `cnm connect` returning on host A until a sandbox on host B gets a ping reply
 *      from the new endpoint (p50/p99 over --count endpoints, default 100); includes one ping process start, and a
 *      failed probe costs its 50 ms wait, so the resolution is about 50 ms once the first probe misses;
 *   2. TCP throughput container-to-container across hosts (vxlan) vs underlay-to-underlay, in the same run.
 * Usage (root, after `npx tsc`): node dist/bench/multihost.js [--count N] [--seconds S] [--json]
 */
import { spawn } from 'node:child_process';
import { percentile, round } from './lib/stats';
import { SimCluster, type SimHost } from '../test/integration/multihost/harness';

interface Args {
  count: number;
  seconds: number;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { count: 100, seconds: 3, json: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') a.json = true;
    else if (argv[i] === '--count') a.count = Number(argv[++i]);
    else if (argv[i] === '--seconds') a.seconds = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}: use --count N --seconds S --json`);
  }
  if (!(a.count >= 1 && a.seconds > 0)) throw new Error('--count must be >= 1 and --seconds > 0');
  return a;
}

/** TCP bytes/s from a sender in netns `from` to a sink in netns `to` listening on `ip`. */
async function throughput(to: string, from: string, ip: string, seconds: number): Promise<number> {
  const sink = spawn(
    'nsenter',
    [
      `--net=/run/netns/${to}`,
      process.execPath,
      '-e',
      `
    const s = require('net').createServer((k) => { k.on('data', () => {}); k.on('end', () => s.close()); });
    s.listen(7788, '${ip}', () => console.log('ready'));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((r) => sink.stdout!.once('data', () => r()));
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(
      'nsenter',
      [
        `--net=/run/netns/${from}`,
        process.execPath,
        '-e',
        `
      const buf = Buffer.alloc(1 << 16); let sent = 0; const t0 = process.hrtime.bigint(); const end = ${seconds * 1000};
      const k = require('net').connect(7788, '${ip}', () => {
        const pump = () => { while (Number(process.hrtime.bigint() - t0) / 1e6 < end) { sent += buf.length; if (!k.write(buf)) return k.once('drain', pump); } k.end(); };
        pump();
      });
      k.on('close', () => console.log(sent / (Number(process.hrtime.bigint() - t0) / 1e9)));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let s = '';
    p.stdout!.on('data', (d) => {
      s += d;
    });
    p.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`sender exited ${code}`))));
  });
  await new Promise<void>((r) => (sink.exitCode !== null ? r() : sink.once('exit', () => r())));
  return Number(out.trim());
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
    const overlay = await throughput(probe, sender, probeIp, args.seconds);
    const underlay = await throughput(b.netns, a.netns, b.ip, args.seconds);
    const result = {
      endpoints: args.count,
      reachMs: { p50: round(percentile(lat, 50)), p99: round(percentile(lat, 99)), max: round(Math.max(...lat)) },
      throughputMbit: { overlay: round((overlay * 8) / 1e6, 1), underlay: round((underlay * 8) / 1e6, 1) },
      ratio: round(overlay / underlay, 3),
    };
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      process.stdout.write(
        [
          `reachability after connect (${args.count} endpoints, host A -> host B ping):`,
          `  p50 ${result.reachMs.p50} ms   p99 ${result.reachMs.p99} ms   max ${result.reachMs.max} ms`,
          `TCP throughput (${args.seconds} s each, one stream):`,
          `  container -> container across hosts (vxlan)  ${result.throughputMbit.overlay} Mbit/s`,
          `  underlay -> underlay                        ${result.throughputMbit.underlay} Mbit/s`,
          `  ratio                                       ${result.ratio}`,
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
