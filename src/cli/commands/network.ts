/** `cnm network create | ls | inspect | rm`. */
import type { Command } from 'commander';
import type { NetworkRecord } from '../../engine/records';
import { globalsOf, inspectNamed, onNamed, subcommand } from '../command-module';
import type { CliContext } from '../context';
import { formatTable, printRead } from '../output';
import { collect, parseInteger, parseKeyValues } from '../parse';

interface CreateFlags {
  driver: string;
  subnet: string[];
  ipRange?: string;
  gateway?: string;
  auxAddress: string[];
  ipv6?: boolean;
  internal?: boolean;
  mtu?: string;
  opt: string[];
  label: string[];
}

function subnetsOf(n: NetworkRecord): string {
  return [n.ipv4?.subnet, n.ipv6?.subnet].filter(Boolean).join(',');
}

function registerCreate(network: Command, ctx: CliContext): void {
  network
    .command('create')
    .description('create a network')
    .argument('<name>')
    .option('--driver <driver>', 'network driver', 'bridge')
    .option('--subnet <cidr>', 'subnet (repeatable: one IPv4, one IPv6 with --ipv6)', collect, [])
    .option('--ip-range <cidr>', 'allocate addresses from this sub-range')
    .option('--gateway <ip>', 'gateway address (default: first usable)')
    .option('--aux-address <name=ip>', 'reserve an address (repeatable)', collect, [])
    .option('--ipv6', 'enable IPv6 (dual stack)')
    .option('--internal', 'no default route through this network')
    .option('--mtu <n>', 'MTU of the bridge and its endpoints')
    .option('--opt <k=v>', 'driver option (repeatable)', collect, [])
    .option('--label <k=v>', 'label (repeatable)', collect, [])
    .action(async function (this: Command, name: string, f: CreateFlags) {
      const engine = await ctx.engine(globalsOf(this));
      const net = await engine.networkCreate({
        name,
        driver: f.driver,
        subnets: f.subnet,
        ipRange: f.ipRange,
        gateway: f.gateway,
        auxAddresses: parseKeyValues('--aux-address', f.auxAddress),
        ipv6: !!f.ipv6,
        internal: !!f.internal,
        mtu: f.mtu === undefined ? undefined : parseInteger('--mtu', f.mtu),
        options: parseKeyValues('--opt', f.opt),
        labels: parseKeyValues('--label', f.label),
      });
      ctx.stdout(`${net.id}\n`);
    });
}

function registerReads(network: Command, ctx: CliContext): void {
  subcommand(network, 'ls', 'list networks', { alias: 'list' }).action(async function (this: Command) {
    const g = globalsOf(this);
    const engine = await ctx.engine(g);
    const [nets, counts] = [await engine.networkList(), await engine.endpointCounts()];
    const rows = nets.map((n) => [n.id.slice(0, 12), n.name, n.driver, subnetsOf(n), String(counts.get(n.id) ?? 0), n.state]);
    printRead(
      ctx,
      g.json,
      nets.map((n) => ({ ...n, endpoints: counts.get(n.id) ?? 0 })),
      () => formatTable(['NETWORK ID', 'NAME', 'DRIVER', 'SUBNETS', 'ENDPOINTS', 'STATE'], rows),
    );
  });
  subcommand(network, 'inspect', 'show a network', { args: ['<name>'] }).action(inspectNamed(ctx, (e, name) => e.networkInspect(name)));
  subcommand(network, 'rm', 'remove a network', { alias: 'remove', args: ['<name>'] }).action(onNamed(ctx, (e, name) => e.networkRemove(name)));
}

export function register(program: Command, ctx: CliContext): void {
  const network = program.command('network').description('manage networks');
  registerCreate(network, ctx);
  registerReads(network, ctx);
}
