/** Latency summaries (nearest-rank percentiles) and the human table of the connect benchmark. */

export interface Summary {
  /** operations measured */
  n: number;
  median: number;
  p99: number;
}

/** The value at nearest-rank percentile `p` (0..100) of `xs`. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export function summarize(ms: number[]): Summary {
  return { n: ms.length, median: round(percentile(ms, 50)), p99: round(percentile(ms, 99)) };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The four timed operations, in the order a sandbox lives through them. */
export const OPS = ['sandboxCreate', 'connect', 'disconnect', 'sandboxRemove'] as const;
export type Op = (typeof OPS)[number];
export type Timings = Record<Op, number[]>;
export type OpSummaries = Record<Op, Summary>;

export function emptyTimings(): Timings {
  return { sandboxCreate: [], connect: [], disconnect: [], sandboxRemove: [] };
}

export function summarizeAll(t: Timings): OpSummaries {
  return {
    sandboxCreate: summarize(t.sandboxCreate),
    connect: summarize(t.connect),
    disconnect: summarize(t.disconnect),
    sandboxRemove: summarize(t.sandboxRemove),
  };
}

export interface RunResult {
  n: number;
  cnm: OpSummaries;
  /** CPU ms of the cnm process per operation (user + system) */
  cnmCpu: OpSummaries;
  ip?: OpSummaries;
  /** cnm median / ip median per operation (below 1: cnm is faster) */
  ratio?: Record<Op, number>;
}

export function ratios(cnm: OpSummaries, ip: OpSummaries): Record<Op, number> {
  const r = {} as Record<Op, number>;
  for (const op of OPS) r[op] = round(cnm[op].median / ip[op].median, 2);
  return r;
}

const LABELS: Record<Op, string> = {
  sandboxCreate: 'sandbox create',
  connect: 'connect',
  disconnect: 'disconnect',
  sandboxRemove: 'sandbox remove',
};

/**
 * A fixed-width table: one row per N and operation, wall-clock median and p99 in ms, the median CPU ms of the
 * cnm process, and the cnm/ip ratio of the wall-clock medians.
 */
export function formatTable(results: RunResult[]): string {
  const head = ['N', 'operation', 'cnm median', 'cnm p99', 'cnm cpu', 'ip median', 'ip p99', 'cnm/ip'];
  const rows: string[][] = [];
  for (const r of results) {
    for (const op of OPS) {
      rows.push([
        String(r.n),
        LABELS[op],
        fmt(r.cnm[op].median),
        fmt(r.cnm[op].p99),
        fmt(r.cnmCpu[op].median),
        r.ip ? fmt(r.ip[op].median) : '-',
        r.ip ? fmt(r.ip[op].p99) : '-',
        r.ratio ? r.ratio[op].toFixed(2) : '-',
      ]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const fmt = (ms: number): string => ms.toFixed(2);
