/**
 * The logger every module is handed (pino's shape, so the composition root passes a pino instance): levels are
 * the caller's to set, and nothing below the CLI writes to stderr itself. Pure: no I/O here.
 */

export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const ignore: LogFn = () => undefined;

/** Drops everything: for code paths whose caller asked for no log (and for unit tests). */
export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore, child: () => silentLogger };
