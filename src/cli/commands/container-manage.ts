/** `cnm ps`, `cnm stop`, `cnm rm`, `cnm logs`: containers made by `cnm run` (see src/runner/lifecycle.ts). */
import type { Command } from 'commander';
import type { RunnerDeps } from '../../runner/deps';
import { globalsOf, subcommand } from '../command-module';
import type { CliContext } from '../context';
import { formatTable, printRead } from '../output';
import { parseInteger } from '../parse';

type Lifecycle = typeof import('../../runner/lifecycle.js');

/** The runner's deps and its lifecycle verbs, loaded by these commands alone. */
async function withDeps<T>(ctx: CliContext, cmd: Command, fn: (deps: RunnerDeps, runner: Lifecycle) => Promise<T>): Promise<T> {
  const runner = require('../../runner/lifecycle') as typeof import('../../runner/lifecycle.js');
  return fn(await ctx.runner(globalsOf(cmd)), runner);
}

/** `fn` on each named container in turn, printing each name once done (as `docker stop`/`docker rm` do). */
async function eachContainer(
  ctx: CliContext,
  cmd: Command,
  names: string[],
  fn: (deps: RunnerDeps, name: string, runner: Lifecycle) => Promise<void>,
): Promise<void> {
  await withDeps(ctx, cmd, async (deps, runner) => {
    for (const n of names) {
      await fn(deps, n, runner);
      ctx.stdout(`${n}\n`);
    }
  });
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('ps')
    .description('list containers (tears down detached ones whose command has ended)')
    .action(async function (this: Command) {
      const views = await withDeps(ctx, this, (deps, r) => r.listContainerViews(deps));
      const rows = views.map((c) => [
        c.name,
        c.state,
        c.pid !== undefined && c.status === 'running' ? String(c.pid) : '',
        c.networks.map((n) => `${n.network}${n.address ? `:${n.address}` : ''}`).join(', '),
        c.command.join(' '),
      ]);
      printRead(ctx, globalsOf(this).json, views, () => formatTable(['NAME', 'STATUS', 'PID', 'NETWORKS', 'COMMAND'], rows));
    });
  subcommand(program, 'stop', 'stop a container: SIGTERM, then SIGKILL after the timeout', { args: ['<name...>'] })
    .option('-t, --time <seconds>', 'seconds to wait before SIGKILL', '10')
    .action(async function (this: Command, names: string[]) {
      const time = parseInteger('--time', (this.opts() as { time: string }).time);
      await eachContainer(ctx, this, names, (deps, n, r) => r.stopContainer(deps, n, time));
    });
  subcommand(program, 'rm', 'remove stopped containers (--force: stop them first)', { args: ['<name...>'] })
    .option('-f, --force', 'kill a running container first')
    .action(async function (this: Command, names: string[]) {
      const force = !!(this.opts() as { force?: boolean }).force;
      await eachContainer(ctx, this, names, (deps, n, r) => r.removeContainer(deps, n, force));
    });
  subcommand(program, 'logs', 'print the output of a detached container', { args: ['<name>'] }).action(async function (this: Command, name: string) {
    const log = await withDeps(ctx, this, (deps, r) => r.containerLogs(deps, name));
    ctx.stdout(log.toString());
  });
}
