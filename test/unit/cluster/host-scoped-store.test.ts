import assert from 'node:assert/strict';
import { HostScopedStore } from '../../../src/cluster/host-scoped-store';
import { MemoryStore } from '../../../src/store/memory-store';
import { storeContract } from '../../contract/store.contract';

storeContract('HostScopedStore over MemoryStore', async () => {
  const inner = new MemoryStore();
  return { store: new HostScopedStore(inner, 'h1'), cleanup: () => inner.close() };
});

describe('HostScopedStore', () => {
  let inner: MemoryStore;
  let a: HostScopedStore;
  let b: HostScopedStore;
  beforeEach(() => {
    inner = new MemoryStore();
    a = new HostScopedStore(inner, 'hostA');
    b = new HostScopedStore(inner, 'hostB');
  });
  afterEach(() => inner.close());

  it("keeps each host's sandboxes, endpoints and instance id apart", async () => {
    await a.put('sandboxes/web', 'A');
    await b.put('sandboxes/web', 'B');
    await a.put('meta/instance-id', 'ia');
    assert.equal((await a.get('sandboxes/web'))?.value, 'A');
    assert.equal((await b.get('sandboxes/web'))?.value, 'B');
    assert.equal(await b.get('meta/instance-id'), undefined);
    assert.deepEqual(
      (await b.list('sandboxes/')).map((kv) => kv.key),
      ['sandboxes/web'],
    );
    assert.ok(await inner.get('local/hostA/sandboxes/web'));
  });

  it('shares network records, cluster keys and the global IPAM space', async () => {
    await a.put('networks/n1', '{}');
    await a.put('cluster/hosts/hostA', '{}');
    await a.put('ipam/pools/global%2F10.9.0.0%2F24', 'g');
    await a.put('ipam/pools/local%2F172.18.0.0%2F16', 'l');
    assert.ok(await b.get('networks/n1'));
    assert.ok(await b.get('cluster/hosts/hostA'));
    assert.deepEqual(
      (await b.list('ipam/pools/')).map((kv) => kv.key),
      ['ipam/pools/global%2F10.9.0.0%2F24'],
    );
    assert.deepEqual(
      (await a.list('ipam/pools/')).map((kv) => kv.key),
      ['ipam/pools/global%2F10.9.0.0%2F24', 'ipam/pools/local%2F172.18.0.0%2F16'],
    );
  });

  it('applies a txn mixing local and shared keys atomically, comparing each in its own scope', async () => {
    const ok = await a.txn({
      compare: [
        { key: 'attachments/n1/web', modRevision: 0 },
        { key: 'cluster/vxlan/vni/5000', modRevision: 0 },
      ],
      success: [
        { type: 'put', key: 'attachments/n1/web', value: 'e' },
        { type: 'put', key: 'cluster/vxlan/vni/5000', value: 'n1' },
      ],
    });
    assert.equal(ok, true);
    const again = await b.txn({
      compare: [
        { key: 'attachments/n1/web', modRevision: 0 },
        { key: 'cluster/vxlan/vni/5000', modRevision: 0 },
      ],
      success: [{ type: 'put', key: 'attachments/n1/web', value: 'x' }],
    });
    assert.equal(again, false, 'the VNI key is shared, so host B sees it taken');
    assert.equal(await b.get('attachments/n1/web'), undefined);
  });

  it("deletes by prefix only in the host's own scope and the shared prefixes it covers", async () => {
    await a.put('ipam/addrs/local%2Fx/01', '1');
    await b.put('ipam/addrs/local%2Fx/01', '1');
    await a.put('ipam/addrs/global%2Fy/01', '1');
    await a.txn({ compare: [], success: [{ type: 'deletePrefix', prefix: 'ipam/addrs/' }] });
    assert.deepEqual(
      (await inner.list('')).map((kv) => kv.key),
      ['local/hostB/ipam/addrs/local%2Fx/01'],
    );
  });

  it('rejects host names that cannot be a key segment', () => {
    assert.throws(() => new HostScopedStore(inner, 'a/b'), /host name "a\/b" is not allowed/);
    assert.throws(() => new HostScopedStore(inner, ''), /not allowed/);
  });
});
