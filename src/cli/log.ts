/**
 * The CLI's logger: pino, with each line written to stderr the way a person reads it (`cnm: warning: ...`,
 * `cnm firewall: ...`) rather than as JSON. Levels: info and up; --debug adds debug. pino is loaded on the first
 * line logged: most commands log nothing, and loading it would cost every one of them.
 */
import { InvalidArgumentError } from '../core/errors';
import type { Logger, LogFn } from '../core/log';

const LABELS: Record<number, string> = { 20: 'debug: ', 30: '', 40: 'warning: ', 50: 'error: ', 60: 'fatal: ' };

interface Line {
  level: number;
  msg?: string;
  component?: string;
  err?: { message?: string };
}

/** One pino JSON line as text for a person. */
export function formatCliLine(json: string): string {
  const o = JSON.parse(json) as Line;
  const who = o.component ? `cnm ${o.component}` : 'cnm';
  const err = o.err?.message ? `: ${o.err.message}` : '';
  return `${who}: ${LABELS[o.level] ?? ''}${o.msg ?? ''}${err}\n`;
}

type Pino = typeof import('pino');

function loadPino(): Pino {
  return require('pino') as Pino;
}

/** A Logger that builds the real one when it is first used. */
export function lazyLogger(make: () => Logger): Logger {
  let real: Logger | undefined;
  const get = (): Logger => (real ??= make());
  const fn =
    (level: 'debug' | 'info' | 'warn' | 'error'): LogFn =>
    (a: object | string, msg?: string) =>
      typeof a === 'string' ? get()[level](a) : get()[level](a, msg);
  return { debug: fn('debug'), info: fn('info'), warn: fn('warn'), error: fn('error'), child: (b) => lazyLogger(() => get().child(b)) };
}

export function cliLogger(debug: boolean, write: (text: string) => void): Logger {
  return lazyLogger(() =>
    loadPino()({ level: debug ? 'debug' : 'info', base: undefined, timestamp: false }, { write: (line: string) => write(formatCliLine(line)) }),
  );
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The daemon's level: `--log-level`, else CNM_LOG_LEVEL (how the managed plugin is told), else debug with --debug, else info. */
export function daemonLogLevel(flag: string | undefined, debug: boolean, env: NodeJS.ProcessEnv = process.env): LogLevel {
  const given = flag ?? (env.CNM_LOG_LEVEL?.trim() || undefined);
  if (given === undefined) return debug ? 'debug' : 'info';
  const level = given.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    const from = flag === undefined ? 'CNM_LOG_LEVEL' : '--log-level';
    throw new InvalidArgumentError(`${from} ${JSON.stringify(given)} is not a log level: use one of ${LOG_LEVELS.join(', ')}`);
  }
  return level as LogLevel;
}

/** `cnm daemon`: one JSON line per call and event on stdout, for log collectors. */
export function daemonLogger(level: LogLevel): Logger {
  return lazyLogger(() => loadPino()({ level }));
}
