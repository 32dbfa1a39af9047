import assert from 'node:assert/strict';
import { ConflictError, InvalidArgumentError } from '../../../src/core/errors';
import { makeHarness, type Harness } from './harness';

describe('engine sandboxes', () => {
  let h: Harness;
  beforeEach(() => {
    h = makeHarness();
  });

  it('creates a named netns with lo up', async () => {
    const sb = await h.engine.sandboxCreate('web1');
    assert.equal(sb.state, 'ready');
    assert.deepEqual(h.netns.list(), ['web1']);
    assert.equal(h.kernel.link('web1', 'lo')!.up, true);
    assert.equal((await h.engine.sandboxInspect('web1')).key, '/run/netns/web1');
  });

  it('rejects a duplicate name', async () => {
    await h.engine.sandboxCreate('web1');
    await assert.rejects(h.engine.sandboxCreate('web1'), ConflictError);
    assert.deepEqual(h.netns.list(), ['web1']);
  });

  it('refuses to adopt a netns it did not make and leaves it alone', async () => {
    await h.netns.create('foreign');
    await assert.rejects(h.engine.sandboxCreate('foreign'), ConflictError);
    assert.deepEqual(h.netns.list(), ['foreign']);
    assert.deepEqual(await h.engine.sandboxList(), []);
  });

  for (const name of ['../x', 'a/b', '', 'a b', '.hidden', 'x'.repeat(65)]) {
    it(`rejects the name ${JSON.stringify(name)} and creates nothing`, async () => {
      await assert.rejects(h.engine.sandboxCreate(name), InvalidArgumentError);
      assert.deepEqual(h.netns.list(), []);
      assert.deepEqual(await h.store.list(''), []);
    });
  }

  it('removes the netns and its record', async () => {
    await h.engine.sandboxCreate('web1');
    await h.engine.sandboxRemove('web1');
    assert.deepEqual(h.netns.list(), []);
    assert.deepEqual(await h.store.list(''), []);
  });
});
