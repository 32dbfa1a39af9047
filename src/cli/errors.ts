/** Error to exit code and message, at the CLI edge only: 0 ok, 1 error, 2 usage or invalid input. */
import { CommanderError } from 'commander';
import { isCnmError } from '../core/errors';
import type { CliContext } from './context';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (isCnmError(err) && err.kind === 'invalid') return EXIT_USAGE;
  return EXIT_ERROR;
}

/** Print `cnm: <message>` (+ `hint: ...`, + the stack with --debug) on stderr; commander already printed its own. */
export function reportError(ctx: CliContext, err: unknown, debug: boolean): number {
  const code = exitCodeFor(err);
  if (err instanceof CommanderError) return code;
  const message = err instanceof Error ? err.message : String(err);
  ctx.stderr(`cnm: ${message}\n`);
  if (isCnmError(err) && err.hint) ctx.stderr(`hint: ${err.hint}\n`);
  if (debug && err instanceof Error && err.stack) ctx.stderr(`${err.stack}\n`);
  return code;
}
