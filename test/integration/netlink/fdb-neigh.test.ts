/**
 * FDB and neighbor entries made by RtNetlinkHandle, checked independently with iproute2 (`bridge fdb`, `ip neigh`)
 * in a throwaway netns, with the vxlan enslaved to a bridge as the VXLAN driver will have it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { NetlinkHandle } from '../../../src/netlink/handle';
import { RealNetnsOps } from '../../../src/netlink/netns';

const isRoot = process.getuid?.() === 0;

describe('RtNetlinkHandle FDB and neighbor entries seen by iproute2 (root)', () => {
  const ops = new RealNetnsOps();
  const ns = `cnmt${process.pid}-fdb`;
  let h: NetlinkHandle | undefined;
  const run = (cmd: string, ...args: string[]): string => execFileSync(cmd, ['-n', ns, ...args], { encoding: 'utf8' });

  beforeEach(async function () {
    if (!isRoot) this.skip();
    await ops.create(ns);
    h = ops.openHandle(ns);
    await h.linkAdd({ kind: 'bridge', name: 'br0', up: true });
    await h.linkAdd({ kind: 'vxlan', name: 'vx0', vni: 77, port: 4789, learning: false, proxy: true, local: '10.1.0.1', master: 'br0', up: true });
  });
  afterEach(async () => {
    h?.close();
    h = undefined;
    if (ops.exists(ns)) await ops.delete(ns);
  });

  it("programs `self permanent` entries that `bridge fdb` shows, and lists only those, not the bridge's", async () => {
    await h!.fdbAdd!({ mac: '00:00:00:00:00:00', dev: 'vx0', dst: '10.1.0.2' });
    await h!.fdbAdd!({ mac: '00:00:00:00:00:00', dev: 'vx0', dst: '10.1.0.3' });
    await h!.fdbAdd!({ mac: '02:42:0a:01:00:05', dev: 'vx0', dst: '10.1.0.2' });
    const shown = run('bridge', 'fdb', 'show', 'dev', 'vx0')
      .split('\n')
      .filter((l) => l.includes(' self '));
    assert.deepEqual(shown.map((l) => l.trim()).sort(), [
      '00:00:00:00:00:00 dst 10.1.0.2 self permanent',
      '00:00:00:00:00:00 dst 10.1.0.3 self permanent',
      '02:42:0a:01:00:05 dst 10.1.0.2 self permanent',
    ]);
    // the bridge keeps its own entry for the port's MAC ("master br0"); that is not the vxlan's table
    assert.match(run('bridge', 'fdb', 'show', 'dev', 'vx0'), /master br0/);
    const listed = await h!.fdbList!('vx0');
    assert.equal(listed.length, 3);
    assert.ok(listed.every((e) => e.permanent && e.dst !== undefined));
  });

  it('forgets what the bridge knows of a MAC on one port only, and says when it knows nothing there', async () => {
    // what learning leaves behind, made here as a static entry of the bridge on the vxlan port
    run('bridge', 'fdb', 'add', '02:42:0a:01:00:09', 'dev', 'vx0', 'master', 'static');
    assert.match(run('bridge', 'fdb', 'show', 'dev', 'vx0'), /02:42:0a:01:00:09 master br0/);
    await h!.fdbAdd!({ mac: '02:42:0a:01:00:09', dev: 'vx0', dst: '10.1.0.2' });
    await h!.bridgeFdbForget!('02:42:0a:01:00:09', 'vx0');
    const left = run('bridge', 'fdb', 'show', 'dev', 'vx0');
    assert.doesNotMatch(left, /02:42:0a:01:00:09 master/);
    assert.match(left, /02:42:0a:01:00:09 dst 10\.1\.0\.2 self permanent/, "the vxlan's own entry is not the bridge's");
    await assert.rejects(h!.bridgeFdbForget!('02:42:0a:01:00:09', 'vx0'), /not found|FDB|fdb/i);
  });

  it('creates the vxlan with learning off and ARP proxy on', () => {
    const details = run('ip', '-d', 'link', 'show', 'vx0');
    assert.match(details, /vxlan id 77 local 10\.1\.0\.1 .*dstport 4789/s);
    assert.match(details, / nolearning /);
    assert.match(details, / proxy /);
  });

  it('programs permanent neighbor entries that `ip neigh` shows', async () => {
    await h!.neighAdd!({ ip: '10.20.0.5', mac: '02:42:0a:14:00:05', dev: 'br0' });
    await h!.neighAdd!({ ip: 'fd00:20::5', mac: '02:42:0a:14:00:05', dev: 'br0' });
    const shown = run('ip', 'neigh', 'show', 'dev', 'br0')
      .split('\n')
      .filter((l) => l.includes('PERMANENT'));
    assert.deepEqual(shown.map((l) => l.trim()).sort(), ['10.20.0.5 lladdr 02:42:0a:14:00:05 PERMANENT', 'fd00:20::5 lladdr 02:42:0a:14:00:05 PERMANENT']);
  });
});
