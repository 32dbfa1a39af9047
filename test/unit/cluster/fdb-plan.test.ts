import assert from 'node:assert/strict';
import { desiredEntries, FLOOD_MAC, planSync } from '../../../src/cluster/fdb-plan';
import type { ClusterEndpointRecord, HostRecord } from '../../../src/cluster/records';

const host = (name: string, ip: string): [string, HostRecord] => [name, { name, underlayIp: ip, underlayDev: 'eth0', startedAt: '' }];
const ep = (id: string, h: string, mac: string, ipv4: string, ipv6?: string): ClusterEndpointRecord => ({
  id,
  networkId: 'n',
  vni: 7,
  host: h,
  mac,
  ipv4,
  ipv6,
});

describe('cluster FDB planning', () => {
  const hosts = new Map([host('a', '192.0.2.1'), host('b', '192.0.2.2'), host('c', '192.0.2.3')]);
  const eps = [
    ep('1', 'a', '02:42:0a:00:00:02', '10.0.0.2'),
    ep('2', 'b', '02:42:0a:00:00:03', '10.0.0.3', 'fd00::3'),
    ep('3', 'b', '02:42:0a:00:00:04', '10.0.0.4'),
    ep('4', 'c', '02:42:0a:00:00:05', '10.0.0.5'),
  ];

  it('wants one flood entry per remote host with endpoints, one MAC entry and neighbor per remote address', () => {
    const d = desiredEntries({ vni: 7, self: 'a', dev: 'vx', hosts, endpoints: eps });
    const floods = d.fdb
      .filter((e) => e.mac === FLOOD_MAC)
      .map((e) => e.dst)
      .sort();
    assert.deepEqual(floods, ['192.0.2.2', '192.0.2.3']);
    assert.deepEqual(
      d.fdb
        .filter((e) => e.mac !== FLOOD_MAC)
        .map((e) => `${e.mac}>${e.dst}`)
        .sort(),
      ['02:42:0a:00:00:03>192.0.2.2', '02:42:0a:00:00:04>192.0.2.2', '02:42:0a:00:00:05>192.0.2.3'],
    );
    assert.deepEqual(d.neigh.map((n) => n.ip).sort(), ['10.0.0.3', '10.0.0.4', '10.0.0.5', 'fd00::3']);
  });

  it('skips endpoints of a host whose lease is gone and of other VNIs', () => {
    const alive = new Map([host('a', '192.0.2.1'), host('b', '192.0.2.2')]);
    const d = desiredEntries({ vni: 7, self: 'a', dev: 'vx', hosts: alive, endpoints: [...eps, { ...ep('9', 'b', '02:00:00:00:00:09', '10.1.0.9'), vni: 8 }] });
    assert.ok(d.fdb.every((e) => e.dst === '192.0.2.2'));
    assert.ok(!d.neigh.some((n) => n.ip === '10.0.0.5' || n.ip === '10.1.0.9'));
  });

  it('adds only what is missing and deletes only stale cnm entries', () => {
    const d = desiredEntries({ vni: 7, self: 'a', dev: 'vx', hosts, endpoints: eps });
    const plan = planSync(d, {
      fdb: [
        { mac: FLOOD_MAC, dev: 'vx', dst: '192.0.2.2', permanent: true },
        { mac: FLOOD_MAC, dev: 'vx', dst: '192.0.2.9', permanent: true },
        { mac: '02:42:0a:00:00:03', dev: 'vx', dst: '192.0.2.2', permanent: true },
        { mac: '0e:11:22:33:44:55', dev: 'vx', permanent: true },
      ],
      neigh: [
        { ip: '10.0.0.3', family: 4, mac: '02:42:0a:00:00:03', dev: 'vx', permanent: true },
        { ip: '10.0.0.99', family: 4, mac: '02:42:0a:00:00:63', dev: 'vx', permanent: true },
        { ip: '10.0.0.50', family: 4, mac: '02:42:0a:00:00:32', dev: 'vx', permanent: false },
      ],
    });
    assert.deepEqual(plan.fdbDel, [{ mac: FLOOD_MAC, dev: 'vx', dst: '192.0.2.9' }]);
    assert.deepEqual(plan.fdbAdd.map((e) => `${e.mac}>${e.dst}`).sort(), [
      `${FLOOD_MAC}>192.0.2.3`,
      '02:42:0a:00:00:04>192.0.2.2',
      '02:42:0a:00:00:05>192.0.2.3',
    ]);
    assert.deepEqual(plan.neighDel, [{ ip: '10.0.0.99', dev: 'vx' }]);
    assert.deepEqual(plan.neighAdd.map((n) => n.ip).sort(), ['10.0.0.4', '10.0.0.5', 'fd00::3']);
  });

  it('re-points a MAC that moved to another host instead of deleting it first', () => {
    const d = desiredEntries({ vni: 7, self: 'a', dev: 'vx', hosts, endpoints: [ep('2', 'c', '02:42:0a:00:00:03', '10.0.0.3')] });
    const plan = planSync(d, { fdb: [{ mac: '02:42:0a:00:00:03', dev: 'vx', dst: '192.0.2.2', permanent: true }], neigh: [] });
    assert.deepEqual(plan.fdbDel, []);
    assert.ok(plan.fdbAdd.some((e) => e.mac === '02:42:0a:00:00:03' && e.dst === '192.0.2.3'));
  });

  it('plans nothing when the kernel already matches', () => {
    const d = desiredEntries({ vni: 7, self: 'a', dev: 'vx', hosts, endpoints: eps });
    const plan = planSync(d, {
      fdb: d.fdb.map((e) => ({ ...e, permanent: true })),
      neigh: d.neigh.map((n) => ({ ...n, family: n.ip.includes(':') ? (6 as const) : (4 as const), permanent: true })),
    });
    assert.deepEqual(plan, { fdbDel: [], fdbAdd: [], neighDel: [], neighAdd: [] });
  });
});
