/** `cnm sandbox create | ls | inspect | rm`. */
import type { Command } from 'commander';
import { globalsOf } from '../command-module';
import type { CliContext } from '../context';
import { formatTable, printRead } from '../output';

export function register(program: Command, ctx: CliContext): void {
  const sandbox = program.command('sandbox').description('manage sandboxes (named network namespaces)');
  sandbox.command('create').description('create a sandbox').argument('<name>').action(async function (this: Command, name: string) {
    await (await ctx.engine(globalsOf(this))).sandboxCreate(name);
    ctx.stdout(`${name}\n`);
  });
  sandbox.command('ls').alias('list').description('list sandboxes').action(async function (this: Command) {
    const g = globalsOf(this);
    const engine = await ctx.engine(g);
    const [sbs, eps] = [await engine.sandboxList(), await engine.endpointList()];
    const views = sbs.map((s) => ({ ...s, endpoints: eps.filter((e) => e.sandbox === s.name) }));
    const rows = views.map((s) => [
      s.name, s.state,
      s.endpoints.map((e) => `${e.ifname}:${e.networkName}${e.state === 'ready' ? '' : `(${e.state})`}`).join(', '),
      s.endpoints.map((e) => e.address ?? '').filter(Boolean).join(', '),
    ]);
    printRead(ctx, g.json, views, () => formatTable(['NAME', 'STATE', 'NETWORKS', 'ADDRESSES'], rows));
  });
  sandbox.command('inspect').description('show a sandbox').argument('<name>').action(async function (this: Command, name: string) {
    printRead(ctx, true, await (await ctx.engine(globalsOf(this))).sandboxInspect(name), () => '');
  });
  sandbox.command('rm').alias('remove').description('remove a sandbox (disconnects it first)').argument('<name>')
    .action(async function (this: Command, name: string) {
      await (await ctx.engine(globalsOf(this))).sandboxRemove(name);
      ctx.stdout(`${name}\n`);
    });
}
