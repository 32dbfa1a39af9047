/** `cnm sandbox create | ls | inspect | rm`. */
import type { Command } from 'commander';
import { globalsOf, inspectNamed, onNamed, subcommand } from '../command-module';
import type { CliContext } from '../context';
import { formatTable, printRead } from '../output';

export function register(program: Command, ctx: CliContext): void {
  const sandbox = program.command('sandbox').description('manage sandboxes (named network namespaces)');
  subcommand(sandbox, 'create', 'create a sandbox', { args: ['<name>'] }).action(onNamed(ctx, (e, name) => e.sandboxCreate(name)));
  subcommand(sandbox, 'ls', 'list sandboxes', { alias: 'list' }).action(async function (this: Command) {
    const g = globalsOf(this);
    const engine = await ctx.engine(g);
    const [sbs, eps] = [await engine.sandboxList(), await engine.endpointList()];
    const views = sbs.map((s) => ({ ...s, endpoints: eps.filter((e) => e.sandbox === s.name) }));
    const rows = views.map((s) => [
      s.name,
      s.state,
      s.endpoints.map((e) => `${e.ifname}:${e.networkName}${e.state === 'ready' ? '' : `(${e.state})`}`).join(', '),
      s.endpoints
        .map((e) => e.address ?? '')
        .filter(Boolean)
        .join(', '),
    ]);
    printRead(ctx, g.json, views, () => formatTable(['NAME', 'STATE', 'NETWORKS', 'ADDRESSES'], rows));
  });
  subcommand(sandbox, 'inspect', 'show a sandbox', { args: ['<name>'] }).action(inspectNamed(ctx, (e, name) => e.sandboxInspect(name)));
  subcommand(sandbox, 'rm', 'remove a sandbox (disconnects it first)', { alias: 'remove', args: ['<name>'] }).action(
    onNamed(ctx, (e, name) => e.sandboxRemove(name)),
  );
}
