/** `cnm gc`: reconcile the store and the kernel (see src/engine/reconcile.ts). */
import type { Command } from 'commander';
import { globalsOf } from '../command-module';
import type { CliContext } from '../context';
import { printRead } from '../output';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('gc')
    .description('clean up after interrupted operations and repair what the kernel lost')
    .action(async function (this: Command) {
      const g = globalsOf(this);
      const report = await (await ctx.engine(g)).gc();
      printRead(ctx, g.json, report, () => (report.actions.length ? report.actions.join('\n') + '\n' : 'nothing to do\n'));
    });
}
