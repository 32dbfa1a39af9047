/** `cnm ps`, `cnm stop`, `cnm rm`, `cnm logs`: containers made by `cnm run` (see src/runner/lifecycle.ts). */
import type { Command } from 'commander';
import { containerLogs, listContainerViews, removeContainer, stopContainer } from '../../runner/lifecycle';
import type { RunnerDeps } from '../../runner/deps';
import { globalsOf } from '../command-module';
import type { CliContext } from '../context';
import { formatTable, printRead } from '../output';
import { parseInteger } from '../parse';

async function withDeps<T>(ctx: CliContext, cmd: Command, fn: (deps: RunnerDeps) => Promise<T>): Promise<T> {
  return fn(await ctx.runner(globalsOf(cmd)));
}

export function register(program: Command, ctx: CliContext): void {
  program.command('ps').description('list containers (tears down detached ones whose command has ended)')
    .action(async function (this: Command) {
      const views = await withDeps(ctx, this, listContainerViews);
      const rows = views.map((c) => [
        c.name, c.state, c.pid !== undefined && c.status === 'running' ? String(c.pid) : '',
        c.networks.map((n) => `${n.network}${n.address ? `:${n.address}` : ''}`).join(', '), c.command.join(' '),
      ]);
      printRead(ctx, globalsOf(this).json, views, () => formatTable(['NAME', 'STATUS', 'PID', 'NETWORKS', 'COMMAND'], rows));
    });
  program.command('stop').description('stop a container: SIGTERM, then SIGKILL after the timeout').argument('<name...>')
    .option('-t, --time <seconds>', 'seconds to wait before SIGKILL', '10')
    .action(async function (this: Command, names: string[]) {
      const time = parseInteger('--time', (this.opts() as { time: string }).time);
      await withDeps(ctx, this, async (deps) => {
        for (const n of names) {
          await stopContainer(deps, n, time);
          ctx.stdout(`${n}\n`);
        }
      });
    });
  program.command('rm').description('remove stopped containers (--force: stop them first)').argument('<name...>')
    .option('-f, --force', 'kill a running container first')
    .action(async function (this: Command, names: string[]) {
      const force = !!(this.opts() as { force?: boolean }).force;
      await withDeps(ctx, this, async (deps) => {
        for (const n of names) {
          await removeContainer(deps, n, force);
          ctx.stdout(`${n}\n`);
        }
      });
    });
  program.command('logs').description('print the output of a detached container').argument('<name>')
    .action(async function (this: Command, name: string) {
      const log = await withDeps(ctx, this, (deps) => containerLogs(deps, name));
      ctx.stdout(log.toString());
    });
}
