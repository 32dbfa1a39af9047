/** `cnm host ls | rm`: the hosts of a shared store (src/cluster/host-admin.ts). */
import type { Command } from 'commander';
import { globalsOf, subcommand } from '../command-module';
import type { CliContext } from '../context';
import { formatTable, printRead } from '../output';

export function register(program: Command, ctx: CliContext): void {
  const host = program.command('host').description('hosts of a shared (etcd) store: which are alive, and removing one that is gone for good');
  subcommand(host, 'ls', 'list hosts: alive (lease held) or missing, with their vxlan endpoints', { alias: 'list' }).action(async function (this: Command) {
    const g = globalsOf(this);
    const hosts = await (await ctx.hosts(g)).list();
    printRead(ctx, g.json, hosts, () =>
      formatTable(
        ['NAME', 'STATE', 'UNDERLAY', 'ENDPOINTS'],
        hosts.map((h) => [h.name, h.alive ? 'alive' : 'missing', h.underlayIp ?? '-', String(h.endpoints)]),
      ),
    );
  });
  subcommand(host, 'rm', 'declare a missing host gone: release its addresses and remove its records (refused while it is alive)', {
    alias: 'remove',
    args: ['<name>'],
  }).action(async function (this: Command, name: string) {
    const g = globalsOf(this);
    const report = await (await ctx.hosts(g)).remove(name);
    printRead(
      ctx,
      g.json,
      report,
      () =>
        `removed host ${report.host}: ${report.endpoints} endpoint(s), released ${report.addresses.length ? report.addresses.join(', ') : 'no address'}` +
        (report.networksRemoved.length ? `; removed networks ${report.networksRemoved.join(', ')} (it was their last host)` : '') +
        '\n',
    );
  });
}
