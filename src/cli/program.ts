/** Builds the commander program and runs it with an injected context (no process globals: testable). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import type { CommandModule } from './command-module';
import { collect } from './parse';
import type { CliContext } from './context';
import { EXIT_OK, reportError } from './errors';

/** The version in package.json: above dist/src/cli (compiled), src/cli (source) or dist/ (the bundled cnm.js). */
export function cnmVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json', '../package.json']) {
    try {
      return (JSON.parse(readFileSync(join(__dirname, rel), 'utf8')) as { version: string }).version;
    } catch {
      // not this layout
    }
  }
  return 'unknown';
}

export function buildProgram(ctx: CliContext, modules: readonly CommandModule[]): Command {
  const program = new Command('cnm')
    .description('container network manager: networks, sandboxes and endpoints on the Linux kernel')
    .version(cnmVersion(), '-V, --version', 'print the version of cnm')
    .option('--state-dir <dir>', 'state directory (env CNM_STATE_DIR, default /var/lib/cnm)')
    .option('--json', 'machine-readable output on read commands')
    .option('--debug', 'print stack traces on errors')
    .option('--store <url>', 'state store: sqlite (embedded, default) or etcd://HOST:PORT[,HOST:PORT...] (env CNM_STORE)')
    .option('--no-firewall', 'do not touch the host firewall: no NAT, isolation or published ports (env CNM_FIREWALL=off)')
    .option(
      '--default-address-pool <base=CIDR,size=N>',
      'pool that networks without --subnet are carved from, replacing Docker\'s defaults (repeatable; env CNM_DEFAULT_ADDRESS_POOLS="base=...,size=...;...")',
      collect,
    )
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.stdout(s),
      writeErr: (s) => ctx.stderr(s),
      outputError: (s, write) => write(`cnm: ${s.replace(/^error: /, '')}`),
    });
  program.exitOverride();
  for (const m of modules) m.register(program, ctx);
  for (const c of allCommands(program)) c.exitOverride().configureOutput(program.configureOutput());
  return program;
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** Parse `argv` (user arguments, without node and script) and run; resolves the exit code. */
export async function runCli(ctx: CliContext, modules: readonly CommandModule[], argv: string[]): Promise<number> {
  const program = buildProgram(ctx, modules);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode ?? EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) return EXIT_OK;
    return reportError(ctx, err, argv.includes('--debug'));
  }
}
