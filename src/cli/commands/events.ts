/** `cnm events [--since T] [--until T] [--filter K=V]`: object changes as they happen (src/diagnose/events.ts). */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors';
import { formatEvent, parseTime, streamEvents, type CnmEvent } from '../../diagnose/events';
import { globalsOf } from '../command-module';
import type { CliContext } from '../context';
import { collect } from '../parse';

const FILTER_KEYS = ['type', 'action', 'host', 'id'] as const;

function parseFilters(specs: string[]): ((e: CnmEvent) => boolean)[] {
  return specs.map((spec) => {
    const m = /^([a-z]+)=(.+)$/.exec(spec);
    if (!m || !(FILTER_KEYS as readonly string[]).includes(m[1])) {
      throw new InvalidArgumentError(`invalid --filter ${JSON.stringify(spec)}: use KEY=VALUE with KEY one of ${FILTER_KEYS.join(', ')}`);
    }
    const [, k, v] = m;
    return (e) => String((e as unknown as Record<string, unknown>)[k] ?? '') === v;
  });
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('events')
    .description('stream object changes as they happen: networks, sandboxes, endpoints, containers, gc repairs, hosts joining and leaving')
    .option('--since <time>', 'first replay what happened since then (RFC 3339, Unix seconds, or 10m / 2h back)')
    .option('--until <time>', 'stop at this time (with --since in the past: print that window and exit)')
    .option('--filter <key=value>', `only events whose ${FILTER_KEYS.join(', ')} matches (repeatable: all must match)`, collect, [])
    .action(async function (this: Command, opts: { since?: string; until?: string; filter: string[] }) {
      const g = globalsOf(this);
      const now = new Date();
      const since = opts.since === undefined ? undefined : parseTime(opts.since, '--since', now);
      const until = opts.until === undefined ? undefined : parseTime(opts.until, '--until', now);
      if (since && until && until < since) throw new InvalidArgumentError(`--until ${opts.until} is before --since ${opts.since}`);
      const filters = parseFilters(opts.filter);
      const src = await ctx.events(g);
      // Ctrl-C or SIGTERM ends the stream cleanly (the follower's watch or poll is cancelled)
      const stop = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await streamEvents(
        src,
        {
          since,
          until,
          onEvent: (e) => {
            if (filters.every((f) => f(e))) ctx.stdout(g.json ? `${JSON.stringify(e)}\n` : formatEvent(e));
          },
        },
        stop,
      );
    });
}
