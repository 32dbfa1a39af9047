/** `cnm connect NETWORK SANDBOX` and `cnm disconnect NETWORK SANDBOX`. */
import type { Command } from 'commander';
import { globalsOf } from '../command-module';
import type { CliContext } from '../context';
import { parsePublishSpec } from '../../engine/publish-spec';
import { collect } from '../parse';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('connect')
    .description('connect a sandbox to a network')
    .argument('<network>')
    .argument('<sandbox>')
    .option('--ip <ip>', 'IPv4 address (default: the next free one)')
    .option('--ip6 <ip>', 'IPv6 address (default: the next free one)')
    .option('--mac <mac>', 'MAC address (default: 02:42 + the IPv4 address)')
    .option('--ifname <name>', 'interface name in the sandbox (default: eth0, eth1, ...)')
    .option('-p, --publish <spec>', 'publish [HOSTIP:]HOSTPORT[-END]:PORT[-END][/tcp|udp] on the host (repeatable)', collect, [])
    .action(async function (
      this: Command,
      network: string,
      sandbox: string,
      o: { ip?: string; ip6?: string; mac?: string; ifname?: string; publish: string[] },
    ) {
      const { publish, ...rest } = o;
      const ep = await (await ctx.engine(globalsOf(this))).connect(network, sandbox, { ...rest, publish: publish.map(parsePublishSpec) });
      ctx.stdout(`${ep.ifname} ${[ep.address, ep.addressV6].filter(Boolean).join(' ')}\n`);
    });
  program
    .command('disconnect')
    .description('disconnect a sandbox from a network')
    .argument('<network>')
    .argument('<sandbox>')
    .action(async function (this: Command, network: string, sandbox: string) {
      await (await ctx.engine(globalsOf(this))).disconnect(network, sandbox);
    });
}
