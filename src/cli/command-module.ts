/** The shape of a file in src/cli/commands/: main.ts loads every such file and calls `register`. */
import type { Command } from 'commander';
import { configuredDefaultPools } from '../ipam/default-pool-spec';
import type { Engine } from '../engine/engine';
import { DEFAULT_STATE_DIR, type CliContext, type GlobalOptions } from './context';
import { printRead } from './output';

export interface CommandModule {
  register(program: Command, ctx: CliContext): void;
}

/** The global options as seen from inside a (sub)command action. */
export function globalsOf(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as {
    stateDir?: string;
    json?: boolean;
    debug?: boolean;
    store?: string;
    firewall?: boolean;
    defaultAddressPool?: string[];
  };
  const pools = configuredDefaultPools(o.defaultAddressPool, process.env);
  return {
    stateDir: o.stateDir ?? process.env.CNM_STATE_DIR ?? DEFAULT_STATE_DIR,
    json: !!o.json,
    debug: !!o.debug,
    store: o.store ?? (process.env.CNM_STORE || undefined),
    ...(o.firewall === false ? { firewall: false as const } : {}),
    ...(pools ? { defaultAddressPools: pools } : {}),
  };
}

/** The head every subcommand declares: `parent NAME [ARG...]`, its description and its alias. */
export function subcommand(parent: Command, name: string, description: string, opts: { alias?: string; args?: string[] } = {}): Command {
  const cmd = parent.command(name).description(description);
  if (opts.alias) cmd.alias(opts.alias);
  for (const arg of opts.args ?? []) cmd.argument(arg);
  return cmd;
}

/** An action on one named object: `verb` on the engine, then the name on stdout (as `docker network rm` prints it). */
export function onNamed(ctx: CliContext, verb: (engine: Engine, name: string) => Promise<unknown>) {
  return async function (this: Command, name: string): Promise<void> {
    await verb(await ctx.engine(globalsOf(this)), name);
    ctx.stdout(`${name}\n`);
  };
}

/** `inspect NAME`: always a JSON document, as with `docker network inspect`. */
export function inspectNamed(ctx: CliContext, inspect: (engine: Engine, name: string) => Promise<unknown>) {
  return async function (this: Command, name: string): Promise<void> {
    printRead(ctx, true, await inspect(await ctx.engine(globalsOf(this)), name), () => '');
  };
}
