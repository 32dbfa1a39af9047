#!/usr/bin/env node
/**
 * The `cnm` entry point: the commander program of ./commands/ (listed in ./commands/index.ts) on the real context.
 * Built into one file, dist/cnm.js (scripts/setup.sh), so that a command does not resolve ~130 files at start.
 */
import { COMMAND_MODULES } from './commands';
import type { CliContext, GlobalOptions } from './context';
import { runCli } from './program';
import type { Wiring } from '../wiring';
import { UnsupportedError } from '../core/errors';
import { cliLogger, daemonLogLevel, daemonLogger } from './log';
import { constants } from 'node:os';

/** `nsenter --net=/run/netns/NAME -- CMD ARGS`, no shell; the child's exit code (128+signal when killed). */
export function execInNetns(sandbox: string, argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const child = spawn('nsenter', [`--net=/run/netns/${sandbox}`, '--', ...argv], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? osSignal(signal) : 0)));
  });
}

function osSignal(name: NodeJS.Signals): number {
  return constants.signals[name] ?? 0;
}

/**
 * The real context: adapters are built on first use by src/wiring.ts and closed by `close()`. The composition root
 * (and with it the engine, the kernel layer and the store) is loaded only by commands that use it: `--help` and
 * `--version` load none of it.
 */
export function realContext(): CliContext & { close(): Promise<void> } {
  let built: Promise<Wiring> | undefined;
  const wiring = (g: GlobalOptions): Promise<Wiring> => {
    built ??= Promise.resolve(require('../wiring') as typeof import('../wiring.js')).then(({ createWiring }) =>
      createWiring({
        stateDir: g.stateDir,
        log: cliLogger(g.debug, (s) => process.stderr.write(s)),
        store: g.store,
        firewall: g.firewall,
        defaultPools: g.defaultAddressPools,
      }),
    );
    return built;
  };
  return {
    engine: async (g) => (await wiring(g)).engine,
    runner: async (g) => (await wiring(g)).runner,
    hosts: async (g) => {
      const w = await wiring(g);
      if (!w.cluster) {
        throw new UnsupportedError('cnm host needs a shared store', { hint: 'give --store etcd://HOST:PORT[,...] (or CNM_STORE), as the daemons use' });
      }
      const { forgetHost, listHosts } = require('../cluster/host-admin') as typeof import('../cluster/host-admin.js');
      const cluster = w.cluster;
      return { list: () => listHosts(cluster), remove: (name) => forgetHost(cluster, w.ipam, name) };
    },
    doctor: async (g) => (require('../wiring') as typeof import('../wiring.js')).doctorDeps(await wiring(g)),
    events: async (g) => (require('../wiring') as typeof import('../wiring.js')).eventSource(await wiring(g)),
    graph: async (g) => (require('../wiring') as typeof import('../wiring.js')).graphDeps(await wiring(g)),
    daemon: (g, setup) => {
      const logger = daemonLogger(daemonLogLevel(setup.logLevel, g.debug));
      const openBackend = async () =>
        (require('../wiring') as typeof import('../wiring.js')).createDaemonBackend({
          stateDir: g.stateDir,
          log: logger,
          store: g.store,
          firewall: setup.firewall && g.firewall !== false ? undefined : false,
          defaultPools: g.defaultAddressPools,
          hostName: setup.hostName,
          underlayIp: setup.underlayIp,
          underlayDev: setup.underlayDev,
          gc: setup.gc,
          dns: setup.dns,
          metrics: setup.metrics,
        });
      return { logger, openBackend };
    },
    execInSandbox: execInNetns,
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    close: async () => {
      if (built) await (await built).close();
    },
  };
}

async function main(): Promise<void> {
  // a reader that went away (`cnm events | head`) ends the command quietly, as it would a shell tool
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const ctx = realContext();
  const code = await runCli(ctx, COMMAND_MODULES, process.argv.slice(2));
  await ctx.close().catch(() => undefined);
  process.exitCode = code;
}

if (require.main === module) void main();
