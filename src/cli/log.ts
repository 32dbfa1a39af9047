/**
 * The CLI's logger: pino, with each line written to stderr the way a person reads it (`cnm: warning: ...`,
 * `cnm firewall: ...`) rather than as JSON. Levels: info and up; --debug adds debug.
 */
import pino from 'pino';
import type { Logger } from '../core/log';

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

export function cliLogger(debug: boolean, write: (text: string) => void): Logger {
  return pino({ level: debug ? 'debug' : 'info', base: undefined, timestamp: false }, { write: (line: string) => write(formatCliLine(line)) });
}

/** `cnm daemon`: one JSON line per call and event on stdout, for log collectors. */
export function daemonLogger(debug: boolean): Logger {
  return pino({ level: debug ? 'debug' : 'info' });
}
