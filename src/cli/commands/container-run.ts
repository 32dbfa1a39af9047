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
    .argument('[cmd...]', 'the command (with --image: replaces its Cmd)')
    .option('--name <name>', 'container name (default: c-<random>)')
    .option('--network <mode>', 'a cnm network (repeatable; default: cnm0, made on first use), none (only lo), host, or container:NAME', collect)
    .option('--network-alias <name>', 'another DNS name of the container on its networks (repeatable)', collect)
    .option('--ip <addr>', 'IPv4 address on the (single) --network')
    .option('-p, --publish <spec>', 'publish a port: [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO] (repeatable)', collect)
    .option('--hostname <name>', 'host name inside the container (default: the container name)')
    .option('-m, --memory <size>', 'memory limit: bytes or with k, m, g (e.g. 64m)')
    .option('--cpus <n>', 'CPU limit, e.g. 0.5')
    .option('--pids-limit <n>', 'maximum number of processes')
    .option('--dns <ip>', 'nameserver for /etc/resolv.conf (repeatable)', collect)
    .option('--dns-search <domain>', 'search domain for /etc/resolv.conf (repeatable; "." for none)', collect)
    .option('--dns-option <opt>', 'resolv.conf option, e.g. ndots:2 (repeatable)', collect)
    .option('--add-host <name:ip>', 'an /etc/hosts line (repeatable)', collect)
    .option('--image <file|dir>', 'a `docker save` archive or OCI image layout: its layers and config (below any --rootfs-tar and --layer)')
    .option('--entrypoint <cmd>', 'replace the image\'s Entrypoint ("": none)')
    .option('-u, --user <user>', 'NAME|UID[:GROUP|GID] to run the command as')
    .option('--layer <dir>', 'read-only rootfs layer dir (repeatable, lowest first)', collect)
    .option('--rootfs-tar <file>', 'rootfs tar, extracted once into a cached layer (below any --layer)')
    .option('-e, --env <K=V>', 'environment variable (repeatable)', collect)
    .option('-w, --workdir <dir>', "working directory inside the container (default: the image's, else /)")
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
