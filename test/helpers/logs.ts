/** Loggers for tests: silent, or one that keeps each line's message by level so a test can assert on warnings. */
import type { LogFn, Logger } from '../../src/core/log';
export { silentLogger } from '../../src/core/log';

export interface RecordingLogger extends Logger {
  lines: { level: 'debug' | 'info' | 'warn' | 'error'; msg: string; fields?: object }[];
  /** the messages logged at warn */
  warnings: string[];
  infos: string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const at =
    (level: RecordingLogger['lines'][number]['level']): LogFn =>
    (a: object | string, b?: string) => {
      if (typeof a === 'string') lines.push({ level, msg: a });
      else lines.push({ level, msg: b ?? '', fields: a });
    };
  const log: RecordingLogger = {
    lines,
    get warnings() {
      return lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    },
    get infos() {
      return lines.filter((l) => l.level === 'info').map((l) => l.msg);
    },
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => log,
  };
  return log;
}

/** The JSON objects of a stream of lines (`cnm events --json`, a daemon's log), skipping anything else. */
export function jsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as T);
}
