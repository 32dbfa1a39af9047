import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { SignalForwarder } from '../../../src/runner/run';

function fakeChild(): ChildProcess & { got: string[] } {
  const got: string[] = [];
  return { got, kill: (sig: NodeJS.Signals) => (got.push(sig), true) } as unknown as ChildProcess & { got: string[] };
}

describe('SignalForwarder (foreground cnm run)', () => {
  it('holds a signal that arrives before the monitor exists and delivers it once attached', () => {
    const f = new SignalForwarder();
    try {
      process.emit('SIGTERM', 'SIGTERM');
      const child = fakeChild();
      f.attach(child);
      assert.deepEqual(child.got, ['SIGTERM']);
      process.emit('SIGINT', 'SIGINT');
      assert.deepEqual(child.got, ['SIGTERM', 'SIGINT']);
    } finally {
      f.dispose();
    }
  });

  it('stops listening when disposed', () => {
    const before = process.listenerCount('SIGTERM');
    const f = new SignalForwarder();
    assert.equal(process.listenerCount('SIGTERM'), before + 1);
    f.dispose();
    assert.equal(process.listenerCount('SIGTERM'), before);
  });
});
