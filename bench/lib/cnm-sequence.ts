/** The measured sequence on cnm's in-process Engine: N × (sandbox create, connect), then N × (disconnect, sandbox remove). */
import { performance } from 'node:perf_hooks';
import type { Engine } from '../../src/engine/engine';
import { createWiring } from '../../src/wiring';
import { emptyTimings, type Op, type Timings } from './stats';
import { silentLogger } from '../../src/core/log';

export interface CnmPlan {
  n: number;
  /** sandbox and network name prefix */
  prefix: string;
  stateDir: string;
}

export interface CnmRun {
  timings: Timings;
  /** CPU ms of this process per operation (user + system: includes the kernel work done in its syscalls) */
  cpu: Timings;
  /** "ADDR/LEN" of the network's gateway, so the ip baseline can use the same addressing */
  gateway: string;
}

type Measured = Pick<CnmRun, 'timings' | 'cpu'>;

/** Wall-clock and CPU time of one operation. CPU time shows what cnm itself costs on a busy (shared) machine. */
async function timed<T>(m: Measured, op: Op, fn: () => Promise<T>): Promise<T> {
  const c = process.cpuUsage();
  const t = performance.now();
  const r = await fn();
  m.timings[op].push(performance.now() - t);
  const used = process.cpuUsage(c);
  m.cpu[op].push((used.user + used.system) / 1000);
  return r;
}

async function sequence(engine: Engine, net: string, prefix: string, n: number): Promise<Measured> {
  const m: Measured = { timings: emptyTimings(), cpu: emptyTimings() };
  const sb = (i: number) => `${prefix}-${i}`;
  for (let i = 0; i < n; i++) {
    await timed(m, 'sandboxCreate', () => engine.sandboxCreate(sb(i)));
    await timed(m, 'connect', () => engine.connect(net, sb(i)));
  }
  for (let i = 0; i < n; i++) {
    await timed(m, 'disconnect', () => engine.disconnect(net, sb(i)));
    await timed(m, 'sandboxRemove', () => engine.sandboxRemove(sb(i)));
  }
  return m;
}

/** One network, N sandboxes on it; `warmup` unmeasured rounds first (JIT, koffi, SQLite caches). */
export async function runCnmSequence(plan: CnmPlan, warmup = 0): Promise<CnmRun> {
  const w = await createWiring({ stateDir: plan.stateDir, log: silentLogger });
  try {
    const net = await w.engine.networkCreate({ name: `${plan.prefix}-net` });
    if (warmup > 0) await sequence(w.engine, net.name, `${plan.prefix}w`, warmup);
    const m = await sequence(w.engine, net.name, plan.prefix, plan.n);
    await w.engine.networkRemove(net.name);
    return { ...m, gateway: net.ipv4!.gateway! };
  } finally {
    await w.close();
  }
}
