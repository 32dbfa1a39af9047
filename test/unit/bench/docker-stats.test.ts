import assert from 'node:assert/strict';
import { costRatio, median, pairedCost, percentile, pluginCallStats, summarize, table } from '../../../bench/docker-stats';

describe('bench/docker-stats', () => {
  it('takes nearest-rank percentiles: p99 of 20 samples is the maximum, p50 the 10th value', () => {
    const xs = Array.from({ length: 20 }, (_, i) => 20 - i); // 20..1, unsorted on purpose
    assert.equal(percentile(xs, 99), 20);
    assert.equal(percentile(xs, 50), 10);
    assert.equal(percentile(xs, 0), 1);
  });

  it('rejects an empty sample and a percentile outside 0..100', () => {
    assert.throws(() => percentile([], 50), /empty/);
    assert.throws(() => percentile([1], 101), /101 is outside/);
    assert.throws(() => median([]), /empty/);
  });

  it('takes the mean of the middle pair as the median of an even count', () => {
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([5, 1, 3]), 3);
  });

  it('summarizes without reordering the caller’s samples', () => {
    const xs = [3, 1, 2];
    assert.deepEqual(summarize(xs), { n: 3, medianMs: 2, p99Ms: 3, minMs: 1, maxMs: 3 });
    assert.deepEqual(xs, [3, 1, 2]);
  });

  it('divides cnm’s network cost by the bridge’s, both over none', () => {
    assert.equal(costRatio(150, 200, 100), 0.5);
    assert.equal(costRatio(260, 200, 100), 1.6);
    assert.equal(costRatio(150, 100, 100), undefined, 'a bridge that costs nothing gives no ratio');
  });

  it('takes the paired ratio from per-round differences, so a slow round shifts all three alike', () => {
    // round 2 ran under load: +500 ms on every case
    const none = [100, 600, 100];
    const bridge = [200, 700, 210];
    const cnm = [150, 650, 160];
    assert.deepEqual(pairedCost(cnm, bridge, none), { ratio: 0.5, cnmOverBridgeMs: -50 });
    assert.throws(() => pairedCost([1], [1, 2], [1]), /equal counts/);
  });

  it('groups plugin log lines per method and skips lines without method or duration', () => {
    const stats = pluginCallStats([
      { method: 'NetworkDriver.Join', durationMs: 2 },
      { method: 'NetworkDriver.Join', durationMs: 4 },
      { method: 'NetworkDriver.DeleteEndpoint', durationMs: 20 },
      { msg: 'cnm daemon listening' },
      { method: 'NetworkDriver.Leave', durationMs: 'slow' },
    ]);
    assert.deepEqual(stats, [
      { method: 'NetworkDriver.DeleteEndpoint', count: 1, p50Ms: 20, p99Ms: 20, totalMs: 20 },
      { method: 'NetworkDriver.Join', count: 2, p50Ms: 3, p99Ms: 4, totalMs: 6 },
    ]);
  });

  it('renders a table with a rule under the header and right-aligned numbers', () => {
    assert.equal(
      table([
        ['net', 'ms'],
        ['cnm', 12.34],
        ['bridge', 5],
      ]),
      ['net       ms', '------  ----', 'cnm     12.3', 'bridge   5.0'].join('\n'),
    );
  });
});
