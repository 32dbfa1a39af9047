/**
 * Micro-benchmark (root): veth with its peer created directly in a named netns, then deleted —
 * over netlink (RtNetlinkHandle) vs `ip` exec. Prints median ms per create and per delete.
 *   node dist/bench/netlink-micro.js [iterations]
 * Everything happens inside two throwaway netns, which are removed at the end.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { RealNetnsOps } from '../src/netlink/netns';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 200);
  const ops = new RealNetnsOps();
  const host = `cnmbench${process.pid}-h`;
  const sb = `cnmbench${process.pid}-s`;
  await ops.create(host);
  await ops.create(sb);
  const h = ops.openHandle(host);
  try {
    await h.linkAdd({ kind: 'bridge', name: 'br0', up: true });
    const nl = { create: [] as number[], del: [] as number[] };
    for (let i = 0; i < n; i++) {
      let t = performance.now();
      await h.linkAdd({ kind: 'veth', name: 'veth0', master: 'br0', up: true, peer: { name: 'eth0', netns: sb } });
      nl.create.push(performance.now() - t);
      t = performance.now();
      await h.linkDel('veth0');
      nl.del.push(performance.now() - t);
    }
    const ip = { create: [] as number[], del: [] as number[] };
    for (let i = 0; i < Math.min(n, 50); i++) {
      let t = performance.now();
      execFileSync('ip', ['-netns', host, 'link', 'add', 'veth0', 'master', 'br0', 'up', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', sb]);
      ip.create.push(performance.now() - t);
      t = performance.now();
      execFileSync('ip', ['-netns', host, 'link', 'del', 'veth0']);
      ip.del.push(performance.now() - t);
    }
    const fmt = (x: number): string => x.toFixed(3);
    console.log(`netlink: create ${fmt(median(nl.create))} ms, delete ${fmt(median(nl.del))} ms (median of ${n})`);
    console.log(`ip exec: create ${fmt(median(ip.create))} ms, delete ${fmt(median(ip.del))} ms (median of ${ip.create.length})`);
  } finally {
    h.close();
    await ops.delete(host);
    await ops.delete(sb);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
