/**
 * One behaviour suite for NetlinkHandle + NetnsOps, run on the fake (unit) and on the kernel
 * (integration, throwaway netns). Keeps FakeNetlinkHandle honest.
 */
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/wait';
import { ConflictError, InternalError, InvalidArgumentError, NotFoundError } from '../../src/core/errors';
import { type NetlinkHandle, type NetnsOps } from '../../src/netlink/handle';
import {
  AddrExistsError,
  AddrNotFoundError,
  FdbNotFoundError,
  LinkExistsError,
  LinkNotFoundError,
  NeighNotFoundError,
  NetnsExistsError,
  NetnsNotFoundError,
  RouteExistsError,
  RouteNotFoundError,
  RouteUnreachableError,
} from '../../src/netlink/errors';

export interface ContractEnv {
  ops: NetnsOps;
  /** a handle in a fresh netns `nsA` */
  h: NetlinkHandle;
  nsA: string;
  /** a second fresh netns with no handle open on it */
  nsB: string;
  /** prefix for any further netns a test creates; teardown deletes them */
  prefix: string;
  /** read /proc/sys/net/<path> inside nsA, independently of the handle */
  readSysctl(path: string): string | undefined;
  teardown(): Promise<void>;
}

/** Link-local IPv6 is the kernel's business (the fake does not model it); compare the rest. */
const notLinkLocal = (cidrOrDst: string): boolean => !cidrOrDst.startsWith('fe80:');

export function netlinkHandleContract(name: string, setup: () => Promise<ContractEnv>): void {
  describe(`NetlinkHandle contract: ${name}`, function () {
    this.timeout(20000);
    let env: ContractEnv;
    let h: NetlinkHandle;
    beforeEach(async () => {
      env = await setup();
      h = env.h;
    });
    afterEach(async () => {
      await env.teardown();
    });

    it('a fresh netns holds only lo, down', async () => {
      const links = await h.linkList();
      assert.deepEqual(
        links.map((l) => [l.name, l.up]),
        [['lo', false]],
      );
      assert.equal(h.netns, env.nsA);
    });

    it('adds, shows and deletes a bridge', async () => {
      await h.linkAdd({ kind: 'bridge', name: 'br0', mtu: 1400, alias: 'cnm:test' });
      const br = await h.linkByName('br0');
      assert.ok(br);
      assert.equal(br.kind, 'bridge');
      assert.equal(br.mtu, 1400);
      assert.equal(br.alias, 'cnm:test');
      assert.equal(br.up, false);
      assert.match(br.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      assert.ok((await h.linkList()).some((l) => l.name === 'br0' && l.index === br.index));
      await h.linkDel('br0');
      assert.equal(await h.linkByName('br0'), undefined);
    });

    it('rejects a duplicate link name with LinkExistsError and a missing one with LinkNotFoundError', async () => {
      await h.linkAdd({ kind: 'bridge', name: 'br0' });
      await assert.rejects(h.linkAdd({ kind: 'bridge', name: 'br0' }), LinkExistsError);
      await assert.rejects(h.linkDel('nope0'), LinkNotFoundError);
      await assert.rejects(h.linkSetUp('nope0'), LinkNotFoundError);
      await assert.rejects(h.linkSetMtu('nope0', 1400), LinkNotFoundError);
      await assert.rejects(h.addrAdd('nope0', '10.1.0.1/24'), LinkNotFoundError);
      await assert.rejects(h.linkSetMaster('nope0', 'br0'), LinkNotFoundError);
      await assert.rejects(h.linkSetMaster('br0', 'nope0'), LinkNotFoundError);
      await assert.rejects(h.addrList('nope0'), LinkNotFoundError);
    });

    it('creates a veth whose peer lives in another netns, and deleting one end deletes the peer', async () => {
      await h.linkAdd({ kind: 'veth', name: 'veth-a', mtu: 1450, up: true, peer: { name: 'eth0', netns: env.nsB, up: true } });
      assert.equal(await h.linkByName('eth0'), undefined);
      assert.equal((await h.linkByName('veth-a'))?.up, true);
      const hb = env.ops.openHandle(env.nsB);
      try {
        const peer = await hb.linkByName('eth0');
        assert.equal(peer?.kind, 'veth');
        assert.equal(peer?.mtu, 1450);
        assert.equal(peer?.up, true);
        await h.linkDel('veth-a');
        assert.equal(await hb.linkByName('eth0'), undefined);
      } finally {
        hb.close();
      }
    });

    it('rejects a veth whose peer name is taken in the target netns and leaves nothing behind', async () => {
      await h.linkAdd({ kind: 'veth', name: 'v0', peer: { name: 'v1' } });
      await assert.rejects(h.linkAdd({ kind: 'veth', name: 'v2', peer: { name: 'v1' } }), LinkExistsError);
      assert.equal(await h.linkByName('v2'), undefined);
      await assert.rejects(h.linkAdd({ kind: 'veth', name: 'v3', peer: { name: 'p', netns: `${env.prefix}-none` } }), NetnsNotFoundError);
    });

    it('enslaves a veth to a bridge and brings it up in the create request', async () => {
      await h.linkAdd({ kind: 'bridge', name: 'br0', up: true });
      await h.linkAdd({ kind: 'veth', name: 'v0', master: 'br0', up: true, peer: { name: 'v1', up: true } });
      const br = await h.linkByName('br0');
      const v0 = await h.linkByName('v0');
      assert.equal(v0?.masterIndex, br?.index);
      assert.equal(v0?.up, true);
      assert.equal((await h.linkByName('v1'))?.up, true);
      await h.linkSetMaster('v0', null);
      assert.equal((await h.linkByName('v0'))?.masterIndex, undefined);
    });

    it('refuses a master that is not a bridge with InvalidArgumentError', async () => {
      await h.linkAdd({ kind: 'veth', name: 'v0', peer: { name: 'v1' } });
      await h.linkAdd({ kind: 'veth', name: 'v2', peer: { name: 'v3' } });
      await assert.rejects(h.linkSetMaster('v0', 'v2'), InvalidArgumentError);
      await assert.rejects(h.linkAdd({ kind: 'veth', name: 'v4', master: 'v2', peer: { name: 'v5' } }), InvalidArgumentError);
      assert.equal(await h.linkByName('v4'), undefined);
    });

    it('sets up/down, mtu, mac, alias and name', async () => {
      await h.linkAdd({ kind: 'veth', name: 'v0', peer: { name: 'v1' } });
      await h.linkSetUp('v0');
      assert.equal((await h.linkByName('v0'))?.up, true);
      await h.linkSetDown('v0');
      assert.equal((await h.linkByName('v0'))?.up, false);
      await h.linkSetMtu('v0', 9000);
      await h.linkSetMac('v0', '02:42:ac:11:00:02');
      await h.linkSetAlias('v0', 'cnm:ep:1234');
      await h.linkSetName('v0', 'eth7');
      assert.equal(await h.linkByName('v0'), undefined);
      const l = await h.linkByName('eth7');
      assert.deepEqual([l?.mtu, l?.mac, l?.alias], [9000, '02:42:ac:11:00:02', 'cnm:ep:1234']);
      await assert.rejects(h.linkSetName('eth7', 'v1'), LinkExistsError);
      await assert.rejects(h.linkSetMtu('eth7', 20), InvalidArgumentError);
      await assert.rejects(h.linkSetMac('eth7', 'zz:zz'), InvalidArgumentError);
    });

    it('adds, lists and deletes IPv4 and IPv6 addresses', async () => {
      await h.linkAdd({ kind: 'bridge', name: 'br0', up: true });
      await h.addrAdd('br0', '10.1.0.1/24');
      await h.addrAdd('br0', 'fd00:1::1/64');
      const cidrs = (await h.addrList('br0')).map((a) => `${a.family} ${a.ifname} ${a.cidr}`).filter((s) => !s.includes(' fe80:'));
      assert.deepEqual(cidrs.sort(), ['4 br0 10.1.0.1/24', '6 br0 fd00:1::1/64']);
      await assert.rejects(h.addrAdd('br0', '10.1.0.1/24'), AddrExistsError);
      await assert.rejects(h.addrAdd('br0', 'fd00:1::1/64'), AddrExistsError);
      await h.addrDel('br0', '10.1.0.1/24');
      await h.addrDel('br0', 'fd00:1::1/64');
      assert.deepEqual((await h.addrList('br0')).map((a) => a.cidr).filter(notLinkLocal), []);
      await assert.rejects(h.addrDel('br0', '10.1.0.1/24'), AddrNotFoundError);
      await assert.rejects(h.addrAdd('br0', '10.1.0.1/33'), InvalidArgumentError);
    });

    it('gives lo its loopback addresses when it comes up', async () => {
      await h.linkSetUp('lo');
      const cidrs = (await h.addrList('lo')).map((a) => a.cidr).sort();
      assert.deepEqual(cidrs, ['127.0.0.1/8', '::1/128']);
    });

    it('adds connected, gateway and default routes for IPv4 and IPv6, and deletes them', async () => {
      await h.linkAdd({ kind: 'bridge', name: 'br0', up: true });
      await h.addrAdd('br0', '10.1.0.1/24');
      await h.addrAdd('br0', 'fd00:1::1/64');
      await h.routeAdd({ dst: '10.2.0.0/16', gateway: '10.1.0.254' });
      await h.routeAdd({ dst: 'default', gateway: '10.1.0.254' });
      await h.routeAdd({ dst: 'default', family: 6, gateway: 'fd00:1::fe', dev: 'br0' });
      await h.routeAdd({ dst: '10.3.0.0/24', dev: 'br0' });
      const routes = (await h.routeList()).filter((r) => notLinkLocal(r.dst)).map((r) => `${r.dst} ${r.gateway ?? '-'} ${r.dev} ${r.table}`);
      assert.deepEqual(
        routes.sort(),
        [
          '10.1.0.0/24 - br0 254',
          '10.2.0.0/16 10.1.0.254 br0 254',
          '10.3.0.0/24 - br0 254',
          'default 10.1.0.254 br0 254',
          'default fd00:1::fe br0 254',
          'fd00:1::/64 - br0 254',
        ].sort(),
      );
      assert.ok((await h.routeList(6)).every((r) => r.family === 6));
      await assert.rejects(h.routeAdd({ dst: '10.2.0.0/16', gateway: '10.1.0.254' }), RouteExistsError);
      await h.routeDel({ dst: '10.2.0.0/16' });
      await h.routeDel({ dst: 'default', family: 6 });
      await assert.rejects(h.routeDel({ dst: '10.2.0.0/16' }), RouteNotFoundError);
      const left = (await h.routeList())
        .map((r) => r.dst)
        .filter(notLinkLocal)
        .sort();
      assert.deepEqual(left, ['10.1.0.0/24', '10.3.0.0/24', 'default', 'fd00:1::/64']);
    });

    it('tells the device, gateway and source address the kernel picks towards an address, or that there is no route', async () => {
      await h.linkAdd({ kind: 'bridge', name: 'br0', up: true });
      await h.addrAdd('br0', '10.1.0.1/24');
      assert.deepEqual(await h.routeGet('10.1.0.77'), { dev: 'br0', source: '10.1.0.1' });
      await h.routeAdd({ dst: '10.2.0.0/16', gateway: '10.1.0.254' });
      assert.deepEqual(await h.routeGet('10.2.3.4'), { dev: 'br0', gateway: '10.1.0.254', source: '10.1.0.1' });
      assert.equal(await h.routeGet('10.9.9.9'), undefined);
    });

    it('refuses routes through a down device or an unreachable gateway with RouteUnreachableError', async () => {
      await h.linkAdd({ kind: 'bridge', name: 'br0' });
      await h.addrAdd('br0', '10.1.0.1/24');
      await assert.rejects(h.routeAdd({ dst: '10.5.0.0/24', dev: 'br0' }), RouteUnreachableError);
      await h.linkSetUp('br0');
      await assert.rejects(h.routeAdd({ dst: '10.5.0.0/24', gateway: '10.9.0.1' }), RouteUnreachableError);
      await assert.rejects(h.routeAdd({ dst: '10.5.0.0/24', gateway: 'nonsense' }), InvalidArgumentError);
    });

    it('flushes IPv6 addresses and all routes of a link taken down, keeping IPv4 addresses', async () => {
      await h.linkAdd({ kind: 'bridge', name: 'br0', up: true });
      await h.addrAdd('br0', '10.1.0.1/24');
      await h.addrAdd('br0', 'fd00:1::1/64');
      await h.routeAdd({ dst: 'default', gateway: '10.1.0.254' });
      await h.linkSetDown('br0');
      assert.deepEqual(
        (await h.addrList('br0')).map((a) => a.cidr),
        ['10.1.0.1/24'],
      );
      assert.deepEqual(
        (await h.routeList()).filter((r) => notLinkLocal(r.dst)),
        [],
      );
    });

    it('moves a link into another netns', async () => {
      await h.linkAdd({ kind: 'veth', name: 'v0', peer: { name: 'v1' } });
      await h.linkSetNetns('v1', env.nsB);
      assert.equal(await h.linkByName('v1'), undefined);
      const hb = env.ops.openHandle(env.nsB);
      try {
        assert.equal((await hb.linkByName('v1'))?.kind, 'veth');
      } finally {
        hb.close();
      }
      await assert.rejects(h.linkSetNetns('v0', `${env.prefix}-none`), NetnsNotFoundError);
    });

    it('creates a vxlan link and refuses a second one with the same VNI and port', async () => {
      await h.linkAdd({ kind: 'vxlan', name: 'vx0', vni: 4242, port: 4789, learning: false, local: '10.1.0.1' });
      assert.equal((await h.linkByName('vx0'))?.kind, 'vxlan');
      await assert.rejects(h.linkAdd({ kind: 'vxlan', name: 'vx1', vni: 4242, port: 4789 }), ConflictError);
      await assert.rejects(h.linkAdd({ kind: 'vxlan', name: 'vx0', vni: 7, port: 4789 }), LinkExistsError);
    });

    it('creates, lists and deletes named netns; deleting one deletes veth peers elsewhere', async () => {
      const n = `${env.prefix}-x`;
      await env.ops.create(n);
      assert.ok(env.ops.exists(n));
      assert.ok(env.ops.list().includes(n));
      await assert.rejects(env.ops.create(n), NetnsExistsError);
      await h.linkAdd({ kind: 'veth', name: 'v0', peer: { name: 'eth0', netns: n } });
      await env.ops.delete(n);
      assert.equal(env.ops.exists(n), false);
      await assert.rejects(env.ops.delete(n), NetnsNotFoundError);
      assert.throws(() => env.ops.openHandle(n), NetnsNotFoundError);
      assert.throws(() => env.ops.openHandle('../etc'), InvalidArgumentError);
      // netns teardown is asynchronous in the kernel (cleanup_net runs in a workqueue)
      await waitFor('the veth of the deleted netns to go', async () => (await h.linkByName('v0')) === undefined, { timeoutMs: 2000, intervalMs: 20 });
    });

    it('writes sysctls of its own netns and refuses bad paths', async () => {
      await h.linkAdd({ kind: 'bridge', name: 'br0' });
      h.sysctlSet('ipv6/conf/br0/disable_ipv6', '1');
      assert.equal(env.readSysctl('ipv6/conf/br0/disable_ipv6'), '1');
      assert.throws(() => h.sysctlSet('ipv4/conf/nope0/forwarding', '1'), NotFoundError);
      assert.throws(() => h.sysctlSet('../../etc/passwd', 'x'), InvalidArgumentError);
    });

    it('serves concurrent requests on one handle', async () => {
      const names = Array.from({ length: 12 }, (_, i) => `br${i}`);
      await Promise.all(names.map((name) => h.linkAdd({ kind: 'bridge', name })));
      const found = await Promise.all(names.map((n) => h.linkByName(n)));
      assert.deepEqual(
        found.map((l) => l?.name),
        names,
      );
      await Promise.all(names.map((n) => h.linkDel(n)));
      assert.deepEqual(
        (await h.linkList()).map((l) => l.name),
        ['lo'],
      );
    });

    describe('FDB and neighbor entries', () => {
      const ZERO = '00:00:00:00:00:00';
      const MAC_A = '02:42:0a:01:00:05';
      const MAC_B = '02:42:0a:01:00:06';
      /** "mac dst" of vx0's own table, sorted (the kernel lists in hash order) */
      const fdbOf = async (dev = 'vx0') => (await h.fdbList!(dev)).map((e) => `${e.mac} ${e.dst ?? '-'}${e.permanent ? '' : ' (dynamic)'}`).sort();
      /** permanent entries only: the kernel's own cache entries (e.g. IPv6 multicast) are its business */
      const neighOf = async (dev?: string) =>
        (await h.neighList!(dev))
          .filter((n) => n.permanent)
          .map((n) => `${n.ip} ${n.mac} ${n.dev} ${n.family}`)
          .sort();
      beforeEach(async () => {
        assert.ok(h.fdbAdd && h.fdbDel && h.fdbList && h.neighAdd && h.neighDel && h.neighList, 'FDB and neighbor methods are implemented');
        await h.linkAdd({ kind: 'vxlan', name: 'vx0', vni: 4242, port: 4789, learning: false, local: '10.1.0.1' });
      });

      it('keeps one remote per unicast MAC and several for the flood entry, idempotently', async () => {
        await h.fdbAdd!({ mac: ZERO, dev: 'vx0', dst: '10.1.0.2' });
        await h.fdbAdd!({ mac: ZERO, dev: 'vx0', dst: '10.1.0.2' });
        await h.fdbAdd!({ mac: ZERO, dev: 'vx0', dst: '10.1.0.3' });
        await h.fdbAdd!({ mac: MAC_A, dev: 'vx0', dst: '10.1.0.3' });
        await h.fdbAdd!({ mac: MAC_A.toUpperCase(), dev: 'vx0', dst: '10.1.0.2' });
        assert.deepEqual(await fdbOf(), [`${ZERO} 10.1.0.2`, `${ZERO} 10.1.0.3`, `${MAC_A} 10.1.0.2`]);
        await assert.rejects(h.fdbAdd!({ mac: MAC_B, dev: 'vx0', dst: 'fd00::2' }), InvalidArgumentError);
        await assert.rejects(h.fdbAdd!({ mac: 'zz', dev: 'vx0', dst: '10.1.0.2' }), InvalidArgumentError);
        await assert.rejects(h.fdbAdd!({ mac: MAC_B, dev: 'vx0', dst: 'nonsense' }), InvalidArgumentError);
        await assert.rejects(h.fdbAdd!({ mac: MAC_B, dev: 'nope0', dst: '10.1.0.2' }), LinkNotFoundError);
        await assert.rejects(h.fdbList!('nope0'), LinkNotFoundError);
      });

      it('deletes one remote or a whole MAC, keeps entries over link down, and loses them with the link', async () => {
        for (const dst of ['10.1.0.2', '10.1.0.3']) await h.fdbAdd!({ mac: ZERO, dev: 'vx0', dst });
        await h.fdbAdd!({ mac: MAC_A, dev: 'vx0', dst: '10.1.0.2' });
        await h.linkSetUp('vx0');
        await h.linkSetDown('vx0');
        assert.deepEqual(await fdbOf(), [`${ZERO} 10.1.0.2`, `${ZERO} 10.1.0.3`, `${MAC_A} 10.1.0.2`]);
        await h.fdbDel!({ mac: ZERO, dev: 'vx0', dst: '10.1.0.2' });
        await h.fdbDel!({ mac: ZERO, dev: 'vx0', dst: '10.1.0.9' }); // a remote the MAC lacks: the kernel ignores it
        assert.deepEqual(await fdbOf(), [`${ZERO} 10.1.0.3`, `${MAC_A} 10.1.0.2`]);
        await h.fdbDel!({ mac: MAC_A, dev: 'vx0' });
        await assert.rejects(h.fdbDel!({ mac: MAC_A, dev: 'vx0' }), FdbNotFoundError);
        await h.fdbDel!({ mac: ZERO, dev: 'vx0' });
        assert.deepEqual(await fdbOf(), []);
        await h.fdbAdd!({ mac: MAC_A, dev: 'vx0', dst: '10.1.0.2' });
        await h.linkDel('vx0');
        await h.linkAdd({ kind: 'vxlan', name: 'vx0', vni: 4242, port: 4789, learning: false, local: '10.1.0.1' });
        assert.deepEqual(await fdbOf(), []);
      });

      it('adds, replaces, lists and deletes permanent IPv4 and IPv6 neighbor entries', async () => {
        await h.neighAdd!({ ip: '10.1.0.5', mac: MAC_A, dev: 'vx0' });
        await h.neighAdd!({ ip: '10.1.0.5', mac: MAC_B, dev: 'vx0' });
        await h.neighAdd!({ ip: 'fd00:1:0::5', mac: MAC_A, dev: 'vx0' });
        const want = [`10.1.0.5 ${MAC_B} vx0 4`, `fd00:1::5 ${MAC_A} vx0 6`];
        assert.deepEqual(await neighOf('vx0'), want);
        assert.deepEqual(await neighOf(), want);
        await h.neighDel!({ ip: '10.1.0.5', dev: 'vx0' });
        await assert.rejects(h.neighDel!({ ip: '10.1.0.5', dev: 'vx0' }), NeighNotFoundError);
        await assert.rejects(h.neighDel!({ ip: '10.1.0.5', dev: 'nope0' }), LinkNotFoundError);
        await assert.rejects(h.neighAdd!({ ip: '10.1.0.300', mac: MAC_A, dev: 'vx0' }), InvalidArgumentError);
        assert.deepEqual(await neighOf('vx0'), [`fd00:1::5 ${MAC_A} vx0 6`]);
      });

      it('flushes neighbor entries, permanent ones too, when their link goes down or goes away', async () => {
        await h.linkSetUp('vx0');
        await h.neighAdd!({ ip: '10.1.0.5', mac: MAC_A, dev: 'vx0' });
        await h.linkSetDown('vx0');
        assert.deepEqual(await neighOf('vx0'), []);
        await h.neighAdd!({ ip: '10.1.0.6', mac: MAC_A, dev: 'vx0' });
        await h.linkDel('vx0');
        assert.deepEqual(await neighOf(), []);
      });
    });

    it('rejects calls after close with InternalError', async () => {
      const h2 = env.ops.openHandle(env.nsB);
      h2.close();
      await assert.rejects(h2.linkList(), InternalError);
    });
  });
}
