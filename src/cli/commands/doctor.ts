/** `cnm doctor SRC DST[:PORT[/tcp|udp]] [--probe]`: why two ends can or cannot talk (src/diagnose/doctor.ts). */
import type { Command } from 'commander';
import { formatDoctor, parseTarget, runDoctor } from '../../diagnose/doctor';
import { globalsOf } from '../command-module';
import type { CliContext } from '../context';
import { printRead } from '../output';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('walk the path from SRC to DST (sandboxes, containers or addresses) and say which step breaks it, with the fix; exit 1 when one does')
    .argument('<src>', 'sandbox, container or address')
    .argument('<dst>', 'sandbox, container or address, optionally :PORT[/tcp|udp] (IPv6: [ADDR]:PORT)')
    .option('--probe', 'also send traffic from SRC: an ICMP echo, or a TCP connect / UDP datagram to PORT')
    .action(async function (this: Command, src: string, dst: string, opts: { probe?: boolean }) {
      const g = globalsOf(this);
      const target = parseTarget(src, dst);
      const report = await runDoctor(await ctx.doctor(g), target, { probe: !!opts.probe });
      printRead(ctx, g.json, report, () => formatDoctor(report));
      if (!report.healthy) ctx.exitCode = 1;
    });
}
