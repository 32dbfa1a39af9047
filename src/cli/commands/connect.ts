/** `cnm connect NETWORK SANDBOX|CONTAINER` and `cnm disconnect NETWORK SANDBOX|CONTAINER`. */
import type { Command } from 'commander';
import type { GlobalOptions } from '../context';
import { globalsOf } from '../command-module';
import type { CliContext } from '../context';
import { parsePublishSpec } from '../../engine/publish-spec';
import { collect } from '../parse';

/**
 * A running container's sandbox when `target` names a container and no sandbox has that name; the container record
 * is then kept up to date (its networks, its /etc/hosts). Only commands given a container name load the runner.
 */
async function targetOf(ctx: CliContext, g: GlobalOptions, target: string): Promise<{ sandbox: string; container?: string }> {
  if (await (await ctx.engine(g)).hasSandbox(target)) return { sandbox: target };
  const deps = await ctx.runner(g);
  const { findContainer, sandboxOfContainer } = require('../../runner/container-network') as typeof import('../../runner/container-network.js');
  const rec = await findContainer(deps, target);
  return rec ? { sandbox: sandboxOfContainer(rec), container: rec.name } : { sandbox: target };
}

async function containerChanged(
  ctx: CliContext,
  g: GlobalOptions,
  container: string | undefined,
  change: Parameters<typeof import('../../runner/container-network.js').containerNetworksChanged>[2],
): Promise<void> {
  if (container === undefined) return;
  const { containerNetworksChanged } = require('../../runner/container-network') as typeof import('../../runner/container-network.js');
  await containerNetworksChanged(await ctx.runner(g), container, change);
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('connect')
    .description('connect a sandbox, or a running container, to a network')
    .argument('<network>')
    .argument('<sandbox>', 'a sandbox name, or the name of a running container')
    .option('--ip <ip>', 'IPv4 address (default: the next free one)')
    .option('--ip6 <ip>', 'IPv6 address (default: the next free one)')
    .option('--mac <mac>', 'MAC address (default: 02:42 + the IPv4 address)')
    .option('--ifname <name>', 'interface name in the sandbox (default: eth0, eth1, ...)')
    .option('-p, --publish <spec>', 'publish [HOSTIP:]HOSTPORT[-END]:PORT[-END][/tcp|udp] on the host (repeatable)', collect, [])
    .option('--alias <name>', "another DNS name of the sandbox on this network (repeatable; cnm daemon's DNS answers it)", collect, [])
    .action(async function (
      this: Command,
      network: string,
      target: string,
      o: { ip?: string; ip6?: string; mac?: string; ifname?: string; publish: string[]; alias: string[] },
    ) {
      const { publish, alias, ...rest } = o;
      const g = globalsOf(this);
      const { sandbox, container } = await targetOf(ctx, g, target);
      const aliases = container === undefined ? alias : [container, ...alias];
      const ep = await (await ctx.engine(g)).connect(network, sandbox, { ...rest, publish: publish.map(parsePublishSpec), aliases });
      await containerChanged(ctx, g, container, {
        added: { network, endpoint: ep },
      });
      ctx.stdout(`${ep.ifname} ${[ep.address, ep.addressV6].filter(Boolean).join(' ')}\n`);
    });
  program
    .command('disconnect')
    .description('disconnect a sandbox, or a running container, from a network')
    .argument('<network>')
    .argument('<sandbox>', 'a sandbox name, or the name of a running container')
    .action(async function (this: Command, network: string, target: string) {
      const g = globalsOf(this);
      const { sandbox, container } = await targetOf(ctx, g, target);
      await (await ctx.engine(g)).disconnect(network, sandbox);
      await containerChanged(ctx, g, container, { removed: network });
    });
}
