/** Human tables and JSON for read commands. */
import type { CliContext } from './context';

/** Left-aligned columns separated by three spaces, like `docker network ls`. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout(JSON.stringify(value, null, 2) + '\n');
}

/** Print `value` as JSON with --json, otherwise the human rendering. */
export function printRead(ctx: CliContext, json: boolean, value: unknown, human: () => string): void {
  if (json) printJson(ctx, value);
  else ctx.stdout(human());
}
