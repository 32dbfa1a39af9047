/** The shape of a file in src/cli/commands/: main.ts loads every such file and calls `register`. */
import type { Command } from 'commander';
import { configuredDefaultPools } from '../ipam/default-pool-spec';
import { DEFAULT_STATE_DIR, type CliContext, type GlobalOptions } from './context';

export interface CommandModule {
  register(program: Command, ctx: CliContext): void;
}

/** The global options as seen from inside a (sub)command action. */
export function globalsOf(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as {
    stateDir?: string; json?: boolean; debug?: boolean; store?: string; firewall?: boolean; defaultAddressPool?: string[];
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
