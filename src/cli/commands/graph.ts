/** `cnm graph [--format svg|dot|json]`: the topology as a picture (src/diagnose/graph.ts). */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors';
import { buildTopology, toDot, toSvg } from '../../diagnose/graph';
import { globalsOf } from '../command-module';
import type { CliContext } from '../context';
import { printJson } from '../output';

const FORMATS = ['svg', 'dot', 'json'] as const;

export function register(program: Command, ctx: CliContext): void {
  program
    .command('graph')
    .description('draw the topology: hosts, networks, sandboxes and containers with their endpoints, addresses and published ports')
    .option('--format <format>', `${FORMATS.join(', ')} (svg is rendered by Graphviz's dot)`, 'svg')
    .action(async function (this: Command, opts: { format: string }) {
      const g = globalsOf(this);
      const format = g.json ? 'json' : opts.format;
      if (!(FORMATS as readonly string[]).includes(format))
        throw new InvalidArgumentError(`invalid --format ${JSON.stringify(opts.format)}: use ${FORMATS.join(', ')}`);
      const deps = await ctx.graph(g);
      const topology = await buildTopology(deps);
      if (format === 'json') printJson(ctx, topology);
      else if (format === 'dot') ctx.stdout(toDot(topology));
      else ctx.stdout(await toSvg(toDot(topology), deps.exec));
    });
}
