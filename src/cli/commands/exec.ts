/** `cnm exec SANDBOX -- CMD [ARG...]`: run a command in the sandbox's netns and exit with its code. */
import type { Command } from 'commander';
import { globalsOf } from '../command-module';
import type { CliContext } from '../context';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('exec')
    .description('run a command inside a sandbox netns')
    .argument('<sandbox>')
    .argument('<cmd...>')
    .usage('SANDBOX -- CMD [ARG...]')
    .action(async function (this: Command, sandbox: string, argv: string[]) {
      const sb = await (await ctx.engine(globalsOf(this))).sandboxInspect(sandbox);
      ctx.exitCode = await ctx.execInSandbox(sb.name, argv);
    });
}
