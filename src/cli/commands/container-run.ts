/** `cnm run [OPTIONS] -- CMD [ARG...]`: a command in a new container on cnm networks (see src/runner/run.ts). */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Command } from 'commander';
import { parseRunOptions, type RawRunOptions } from '../../runner/options';
import { globalsOf } from '../command-module';
import type { CliContext } from '../context';
import { collect } from '../parse';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run a command in a new container (namespaces, cgroup limits, overlay rootfs)')
    .usage('[OPTIONS] -- CMD [ARG...]')
    .argument('<cmd...>')
    .option('--name <name>', 'container name (default: c-<random>)')
    .option('--network <net>', 'connect to this cnm network (repeatable; none: only lo)', collect)
    .option('--ip <addr>', 'IPv4 address on the (single) --network')
    .option('-p, --publish <spec>', 'publish a port: [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO] (repeatable)', collect)
    .option('--hostname <name>', 'host name inside the container (default: the container name)')
    .option('-m, --memory <size>', 'memory limit: bytes or with k, m, g (e.g. 64m)')
    .option('--cpus <n>', 'CPU limit, e.g. 0.5')
    .option('--pids-limit <n>', 'maximum number of processes')
    .option('--layer <dir>', 'read-only rootfs layer dir (repeatable, lowest first)', collect)
    .option('--rootfs-tar <file>', 'rootfs tar, extracted once into a cached layer (below any --layer)')
    .option('-e, --env <K=V>', 'environment variable (repeatable)', collect)
    .option('-w, --workdir <dir>', 'working directory inside the container (default /)')
    .option('--rm', 'remove the container when it exits')
    .option('--keep', 'keep the upper dir after exit (until `cnm rm`)')
    .option('-d, --detach', 'run in the background; output goes to `cnm logs NAME`')
    .action(async function (this: Command, cmd: string[]) {
      const g = globalsOf(this);
      const raw = this.opts() as RawRunOptions;
      const deps = await ctx.runner(g);
      const spec = parseRunOptions(raw, cmd, { hostCpus: deps.hostCpus || os.cpus().length, defaultName: `c-${randomBytes(3).toString('hex')}` });
      const { runContainer } = require('../../runner/run') as typeof import('../../runner/run.js');
      ctx.exitCode = await runContainer(deps, spec, { stdout: ctx.stdout, stderr: ctx.stderr });
    });
}
