/**
 * Pure parts of the Docker benchmark (bench/docker.ts): percentiles, the network cost ratio, the
 * plugin's per-call times parsed from its JSON log lines, and the table for people.
 */

export interface Summary {
  n: number;
  medianMs: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
}

/** Nearest-rank percentile (p in 0..100) of a non-empty sample; with 20 samples p99 is the maximum. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of an empty sample');
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile ${p} is outside 0..100`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Median as the mean of the two middle values for an even count. */
export function median(samples: number[]): number {
  if (samples.length === 0) throw new Error('median of an empty sample');
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

export function summarize(samples: number[]): Summary {
  return {
    n: samples.length,
    medianMs: round(median(samples)),
    p99Ms: round(percentile(samples, 99)),
    minMs: round(Math.min(...samples)),
    maxMs: round(Math.max(...samples)),
  };
}

/**
 * (cnm − none) / (bridge − none) on medians: the share of Docker's own bridge cost that cnm costs.
 * Undefined when the bridge costs nothing measurable (the ratio would mean nothing).
 */
export function costRatio(cnmMs: number, bridgeMs: number, noneMs: number): number | undefined {
  const bridgeCost = bridgeMs - noneMs;
  if (bridgeCost <= 0) return undefined;
  return round((cnmMs - noneMs) / bridgeCost);
}

/**
 * The same ratio from per-round differences: round i ran cnm[i], bridge[i], none[i] back to back, so
 * load that drifts between rounds cancels out of (cnm[i] − none[i]) better than out of whole medians.
 * Also the per-round median of cnm[i] − bridge[i]: what cnm adds to a `docker run` over Docker's bridge.
 */
export function pairedCost(cnm: number[], bridge: number[], none: number[]): { ratio: number | undefined; cnmOverBridgeMs: number } {
  if (cnm.length !== bridge.length || cnm.length !== none.length) throw new Error('paired samples need equal counts');
  const bridgeCost = median(bridge.map((b, i) => b - none[i]));
  const cnmCost = median(cnm.map((c, i) => c - none[i]));
  return {
    ratio: bridgeCost > 0 ? round(cnmCost / bridgeCost) : undefined,
    cnmOverBridgeMs: round(median(cnm.map((c, i) => c - bridge[i]))),
  };
}

export interface CallStats {
  method: string;
  count: number;
  p50Ms: number;
  p99Ms: number;
  totalMs: number;
}

/**
 * Per-method plugin-side durations from the daemon's log lines (objects with `method` and
 * `durationMs`, as src/plugin/app.ts writes them); other lines are ignored. Sorted by total time.
 */
export function pluginCallStats(lines: Record<string, unknown>[]): CallStats[] {
  const byMethod = new Map<string, number[]>();
  for (const l of lines) {
    if (typeof l.method !== 'string' || typeof l.durationMs !== 'number') continue;
    const list = byMethod.get(l.method) ?? [];
    list.push(l.durationMs);
    byMethod.set(l.method, list);
  }
  return [...byMethod]
    .map(([method, d]) => ({
      method,
      count: d.length,
      p50Ms: round(median(d)),
      p99Ms: round(percentile(d, 99)),
      totalMs: round(d.reduce((a, b) => a + b, 0)),
    }))
    .sort((a, b) => b.totalMs - a.totalMs);
}

/** Plain-text table: the first row is the header; numbers right-aligned. */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(1) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
