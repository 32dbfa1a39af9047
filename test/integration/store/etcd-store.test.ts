/**
 * EtcdStore on a private etcd (test/helpers/etcd-server.ts): the shared Store contract, then what only a store
 * shared by hosts must do: several clients racing on one key space, IPAM from 3 "hosts" at once, watches, leases.
 */
import { cidrsOverlap, parseCidr } from '../../../src/core/ip';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../src/core/errors';
import { StoreIpam } from '../../../src/ipam/allocator';
import { EtcdStore, StoreUnavailableError, type WatchEvent } from '../../../src/store/etcd-store';
import { storeContract } from '../../contract/store.contract';
import { etcdUnavailableReason, startEtcd, type EtcdServer } from '../../helpers/etcd-server';
import { waitFor } from '../../helpers/wait';

const ROOT = `cnm-test-${process.pid}/`;

describe('EtcdStore on a private etcd', function () {
  this.timeout(60_000);
  let etcd: EtcdServer | undefined;
  let counter = 0;
  const opened: EtcdStore[] = [];

  before(async function () {
    const reason = etcdUnavailableReason();
    if (reason) {
      console.warn(`    skipping EtcdStore tests: ${reason}`);
      this.skip();
    }
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  /** A client on a key space no other test uses (closed by afterEach). */
  function open(prefix: string, extra: { requestTimeoutMs?: number; endpoints?: string[] } = {}): EtcdStore {
    const s = new EtcdStore({ endpoints: extra.endpoints ?? [etcd!.endpoint], prefix, requestTimeoutMs: extra.requestTimeoutMs });
    opened.push(s);
    return s;
  }
  const freshPrefix = (): string => `${ROOT}${++counter}/`;

  /** Deletes everything the tests wrote, through a client of its own (the test's may be closed). */
  async function wipe(prefix: string): Promise<void> {
    const admin = new EtcdStore({ endpoints: [etcd!.endpoint], prefix });
    try {
      await admin.txn({ compare: [], success: [{ type: 'deletePrefix', prefix: '' }] });
    } finally {
      await admin.close();
    }
  }

  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    if (etcd) await wipe(ROOT);
  });

  storeContract('EtcdStore', async () => {
    const prefix = freshPrefix();
    const store = new EtcdStore({ endpoints: [etcd!.endpoint], prefix });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await wipe(prefix);
      },
    };
  });

  it('keeps its keys under its prefix, invisible to a store with another prefix', async () => {
    const prefix = freshPrefix();
    const a = open(`${prefix}a/`);
    const b = open(`${prefix}b/`);
    const whole = open(prefix);
    await a.put('networks/n1', 'A');
    await b.put('networks/n1', 'B');
    assert.equal((await a.get('networks/n1'))?.value, 'A');
    assert.deepEqual(
      (await whole.list('')).map((kv) => `${kv.key}=${kv.value}`),
      ['a/networks/n1=A', 'b/networks/n1=B'],
    );
    await a.txn({ compare: [], success: [{ type: 'deletePrefix', prefix: '' }] });
    assert.deepEqual(
      (await whole.list('')).map((kv) => kv.key),
      ['b/networks/n1'],
    );
  });

  it('applies a txn that writes one key twice or puts inside a range it deletes, as the ops read in order', async () => {
    const s = open(freshPrefix());
    for (const k of ['p/1', 'p/2', 'p/3', 'q']) await s.put(k, 'old');
    const ok = await s.txn({
      compare: [],
      success: [
        { type: 'put', key: 'q', value: 'first' },
        { type: 'deletePrefix', prefix: 'p/' },
        { type: 'put', key: 'p/2', value: 'new' },
        { type: 'put', key: 'q', value: 'second' },
        { type: 'put', key: 'r', value: 'gone' },
        { type: 'delete', key: 'r' },
      ],
    });
    assert.equal(ok, true);
    assert.deepEqual(
      (await s.list('')).map((kv) => `${kv.key}=${kv.value}`),
      ['p/2=new', 'q=second'],
    );
  });

  it('lists more keys than one etcd page holds, in order', async () => {
    const s = open(freshPrefix());
    const keys = Array.from({ length: 2500 }, (_, i) => `addr/${String(i).padStart(5, '0')}`);
    const puts = (from: number, n: number) => keys.slice(from, from + n).map((key) => ({ type: 'put' as const, key, value: 'x' }));
    for (let i = 0; i < keys.length; i += 100) await s.txn({ compare: [], success: puts(i, 100) });
    assert.deepEqual(
      (await s.list('addr/')).map((kv) => kv.key),
      keys,
    );
    // etcd bounds the ops of one txn (--max-txn-ops, 128 by default): a clear refusal, not an internal error
    await assert.rejects(s.txn({ compare: [], success: puts(0, 200) }), (e: unknown) => e instanceof InvalidArgumentError && /200\/0 ops/.test(e.message));
  });

  it('lets exactly one of several clients create each key when they race', async () => {
    const prefix = freshPrefix();
    const clients = Array.from({ length: 5 }, () => open(prefix));
    const keys = Array.from({ length: 20 }, (_, i) => `ipam/addr/10.0.0.${i + 1}`);
    const results = await Promise.all(
      clients.flatMap((c, ci) =>
        keys.map(async (key) => ({
          key,
          ci,
          won: await c.txn({ compare: [{ key, modRevision: 0 }], success: [{ type: 'put', key, value: `client-${ci}` }] }),
        })),
      ),
    );
    for (const key of keys) {
      const winners = results.filter((r) => r.key === key && r.won);
      assert.equal(winners.length, 1, `${key} had ${winners.length} winners`);
      assert.equal((await clients[0].get(key))?.value, `client-${winners[0].ci}`);
    }
  });

  it('never gives one address to two of 3 hosts allocating from one pool at once, up to exhaustion', async () => {
    const prefix = freshPrefix();
    const ipams = [0, 1, 2].map(() => new StoreIpam({ store: open(prefix) }));
    const pool = await ipams[0].requestPool({ addressSpace: 'global', pool: '10.77.0.0/26', v6: false });
    const usable = 62; // a /26 less network and broadcast
    const perHost = 25;
    const outcomes = await Promise.all(
      ipams.flatMap((ipam) =>
        Array.from({ length: perHost }, () =>
          ipam.requestAddress({ poolId: pool.poolId }).then(
            (a) => a,
            (e: Error) => e,
          ),
        ),
      ),
    );
    const got = outcomes.filter((o): o is string => typeof o === 'string');
    const failed = outcomes.filter((o): o is Error => o instanceof Error);
    assert.equal(got.length, usable);
    assert.equal(new Set(got).size, usable, 'an address was handed out twice');
    assert.ok(
      failed.every((e) => /exhausted|no (free|more)/i.test(e.message)),
      failed.map((e) => e.message).join('; '),
    );
    assert.equal((await ipams[2].listAddresses(pool.poolId)).length, usable);
  });

  it('never gives one default subnet to two of 3 hosts creating networks at once', async () => {
    const prefix = freshPrefix();
    const ipams = [0, 1, 2].map(() => new StoreIpam({ store: open(prefix) }));
    const pools = await Promise.all(ipams.flatMap((ipam) => [0, 1, 2].map(() => ipam.requestPool({ addressSpace: 'global', v6: false }))));
    const cidrs = pools.map((p) => parseCidr(p.pool));
    for (let i = 0; i < cidrs.length; i++) {
      for (let j = i + 1; j < cidrs.length; j++) assert.ok(!cidrsOverlap(cidrs[i], cidrs[j]), `${pools[i].pool} overlaps ${pools[j].pool}`);
    }
  });

  it('reports every change under a prefix to a watcher started from a snapshot, in order', async () => {
    const prefix = freshPrefix();
    const s = open(prefix);
    const other = open(prefix);
    await s.put('hosts/a', '1');
    const snap = await s.snapshot('hosts/');
    await other.put('hosts/b', '2'); // between snapshot and watch: must not be lost
    const events: WatchEvent[] = [];
    const w = await s.watch('hosts/', (ev) => events.push(ev), { fromRevision: snap.revision + 1 });
    await other.put('elsewhere/x', 'no');
    await other.delete('hosts/a');
    await other.put('hosts/b', '3');
    await waitFor('three watch events', () => events.length >= 3, { intervalMs: 10 });
    await w.cancel();
    // a second watch sees the put after the cancel: by then the cancelled one would have seen it too
    await other.put('hosts/c', 'after cancel');
    const later: WatchEvent[] = [];
    const w2 = await s.watch('hosts/', (ev) => later.push(ev), { fromRevision: snap.revision + 1 });
    await waitFor('the second watch to see the put after the cancel', () => later.some((e) => e.key === 'hosts/c'));
    await w2.cancel();
    assert.deepEqual(
      snap.items.map((kv) => kv.key),
      ['hosts/a'],
    );
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.key} ${e.value ?? '-'}`),
      ['put hosts/b 2', 'delete hosts/a -', 'put hosts/b 3'],
    );
    assert.ok(events[0].modRevision < events[1].modRevision && events[1].modRevision < events[2].modRevision);
  });

  it('keeps a leased key alive past its TTL, drops it at once on revoke, and after the TTL once released', async function () {
    this.timeout(20_000);
    const s = open(freshPrefix());
    const kept = await s.putWithLease('hosts/kept', 'h1', 1);
    const dropped = await s.putWithLease('hosts/dropped', 'h2', 1);
    const crashed = await s.putWithLease('hosts/crashed', 'h3', 1);
    assert.match(kept.leaseId, /^\d+$/);
    await dropped.revoke();
    assert.equal(await s.get('hosts/dropped'), undefined);
    crashed.release();
    await waitFor('the released lease to expire', async () => (await s.get('hosts/crashed')) === undefined, { timeoutMs: 10_000, intervalMs: 200 });
    assert.equal((await s.get('hosts/kept'))?.value, 'h1', 'a kept-alive lease must not expire');
    await kept.revoke();
    assert.equal(await s.get('hosts/kept'), undefined);
    await assert.rejects(s.putWithLease('hosts/x', 'v', 0), InvalidArgumentError);
  });

  it('fails fast with StoreUnavailableError naming the endpoints and --store when etcd is unreachable', async () => {
    const s = open('cnm/', { endpoints: ['127.0.0.1:1'], requestTimeoutMs: 3000 });
    const t0 = Date.now();
    await assert.rejects(s.get('networks/x'), (err: unknown) => {
      assert.ok(err instanceof StoreUnavailableError, String(err));
      assert.match(err.message, /etcd:\/\/127\.0\.0\.1:1/);
      assert.match(err.hint ?? '', /--store/);
      return true;
    });
    assert.ok(Date.now() - t0 < 10_000, 'took too long to fail');
  });
});
