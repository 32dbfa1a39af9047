/**
 * The baseline: the same sandbox + connect sequence as a shell script would do it with iproute2, one exec per
 * command (the fewest commands that give the same end state as cnm: lo up, veth on the bridge and up, peer
 * eth0 with cnm's MAC, address, up, default route).
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { emptyTimings, type Timings } from './stats';

export interface IpPlan {
  n: number;
  /** netns name prefix */
  prefix: string;
  bridge: string;
  /** "ADDR/LEN" of the gateway, e.g. "172.17.0.1/16"; sandboxes get the addresses after it */
  gateway: string;
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

function v4ToInt(a: string): number {
  return a.split('.').reduce((acc, b) => acc * 256 + Number(b), 0);
}

function intToV4(x: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(x / 2 ** s) % 256).join('.');
}

/** Docker's MAC for an IPv4 address, as cnm derives it. */
function macOf(addr: string): string {
  return ['02', '42', ...addr.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

function timed(into: number[], fn: () => void): void {
  const t = performance.now();
  fn();
  into.push(performance.now() - t);
}

/** Create N sandboxes and connect each, then disconnect and remove each; returns ms per operation. */
export function runIpSequence(plan: IpPlan, warmup = 0): Timings {
  const [gw, len] = plan.gateway.split('/');
  ip('link', 'add', plan.bridge, 'type', 'bridge');
  try {
    ip('addr', 'add', plan.gateway, 'dev', plan.bridge);
    ip('link', 'set', plan.bridge, 'up');
    if (warmup > 0) sequence({ ...plan, n: warmup, prefix: `${plan.prefix}w` }, gw, len);
    return sequence(plan, gw, len);
  } finally {
    ip('link', 'del', plan.bridge);
  }
}

function sequence(plan: IpPlan, gw: string, len: string): Timings {
  const t = emptyTimings();
  const ns = (i: number) => `${plan.prefix}-${i}`;
  const veth = (i: number) => `vipb${i}`;
  for (let i = 0; i < plan.n; i++) {
    const addr = intToV4(v4ToInt(gw) + 1 + i);
    timed(t.sandboxCreate, () => {
      ip('netns', 'add', ns(i));
      ip('-n', ns(i), 'link', 'set', 'lo', 'up');
    });
    timed(t.connect, () => {
      ip('link', 'add', veth(i), 'master', plan.bridge, 'up', 'type', 'veth', 'peer', 'name', 'eth0', 'address', macOf(addr), 'netns', ns(i));
      ip('-n', ns(i), 'addr', 'add', `${addr}/${len}`, 'dev', 'eth0');
      ip('-n', ns(i), 'link', 'set', 'eth0', 'up');
      ip('-n', ns(i), 'route', 'add', 'default', 'via', gw);
    });
  }
  for (let i = 0; i < plan.n; i++) {
    timed(t.disconnect, () => ip('link', 'del', veth(i)));
    timed(t.sandboxRemove, () => ip('netns', 'del', ns(i)));
  }
  return t;
}
