/** A whole engine over fakes: FakeKernel (stateful), MemoryStore, the real StoreIpam, the real BridgeDriver. */
import { DriverRouter } from '../../../src/drivers/router';
import { recordingLogger, type RecordingLogger } from '../../helpers/logs';
import { BridgeDriver } from '../../../src/drivers/bridge/bridge-driver';
import type { Owner } from '../../../src/drivers/bridge/records';
import type { OwnerProbe } from '../../../src/core/owner';
import type { EngineDeps } from '../../../src/engine/deps';
import { Engine } from '../../../src/engine/engine';
import { keys } from '../../../src/engine/records';
import { StoreIpam } from '../../../src/ipam/allocator';
import { MemoryStore } from '../../../src/store/memory-store';
import { FakeKernel, FakeNetnsOps } from '../../fakes/fake-netlink';
import type { CrashPoints, CrashStep } from '../../../src/core/crash';

/** Processes are "alive" while listed; `self` is pid 100. */
export class FakeOwnerProbe implements OwnerProbe {
  readonly live = new Set<number>([100]);
  me: Owner = { pid: 100, start: 's100' };
  self(): Owner {
    return this.me;
  }
  alive(owner: Owner): boolean {
    return this.live.has(owner.pid);
  }
}

export interface Harness {
  kernel: FakeKernel;
  netns: FakeNetnsOps;
  store: MemoryStore;
  ipam: StoreIpam;
  driver: BridgeDriver;
  owner: FakeOwnerProbe;
  deps: EngineDeps;
  engine: Engine;
  log: RecordingLogger;
  /** the crash points connect and disconnect passed, in order */
  reached: CrashStep[];
}

export function makeHarness(): Harness {
  const kernel = new FakeKernel();
  const netns = new FakeNetnsOps(kernel);
  const host = netns.openHandle(null);
  const store = new MemoryStore();
  const ipam = new StoreIpam({ store });
  const owner = new FakeOwnerProbe();
  const log = recordingLogger();
  const reached: CrashStep[] = [];
  const crash: CrashPoints = { reached: (step) => void reached.push(step) };
  const driver = new BridgeDriver({ host, store, owner, instance: 'i1', log, crash });
  let n = 0;
  // ids differ in their first 11 hex digits, like random ones, so veth names differ
  const newId = () => (++n).toString(16).padStart(11, '0') + 'a'.repeat(53);
  const deps: EngineDeps = {
    netns,
    host,
    store,
    ipam,
    driver: new DriverRouter([driver], 'i1'),
    crash,
    owner,
    clock: () => new Date('2026-01-01T00:00:00Z'),
    newId,
    log,
  };
  return { kernel, netns, store, ipam, driver, owner, deps, log, reached, engine: new Engine(deps) };
}

/** Everything observable: links, addresses and routes of every netns, and every store key and value. */
export async function snapshot(h: Harness): Promise<unknown> {
  const namespaces: Record<string, unknown> = {};
  for (const name of [null, ...h.netns.list()]) {
    const handle = h.netns.openHandle(name);
    try {
      namespaces[name ?? '(host)'] = {
        links: (await handle.linkList()).map((l) => ({ ...l, index: undefined })),
        addrs: (await handle.addrList()).map((a) => ({ ...a, ifindex: undefined })),
        routes: await handle.routeList(),
      };
    } finally {
      handle.close();
    }
  }
  // ipam/next/* only tells the IPAM where to start looking for a free address: a rolled-back allocation leaves
  // it present (pointing at the released address); gc's report of its last repairs is what `cnm events` shows of
  // them, not an object; every real record must be as before
  const store = (await h.store.list('')).filter((kv) => !kv.key.startsWith('ipam/next/') && kv.key !== keys.gcReport).map((kv) => [kv.key, kv.value]);
  return { namespaces, store };
}

export async function allocated(h: Harness): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const p of await h.ipam.listPools()) out[p.pool] = await h.ipam.listAddresses(p.poolId);
  return out;
}
