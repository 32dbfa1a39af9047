/** The pure parts of doctor, metrics, events and graph: argument parsing, event mapping, dot escaping. */
import assert from 'node:assert/strict';
import { parseTarget } from '../../../src/diagnose/doctor';
import { EventMapper, parseTime, splitHost } from '../../../src/diagnose/events';
import { toDot, type Topology } from '../../../src/diagnose/graph';
import { DaemonMetrics, kindOfStatus, parseMetricsAddress } from '../../../src/plugin/metrics';

describe('doctor target', () => {
  it('parses DST, DST:PORT, DST:PORT/PROTO and [V6]:PORT; tcp by default', () => {
    assert.deepEqual(parseTarget('a', 'b'), { src: 'a', dst: 'b' });
    assert.deepEqual(parseTarget('a', '10.0.0.2:80'), { src: 'a', dst: '10.0.0.2', port: 80, proto: 'tcp' });
    assert.deepEqual(parseTarget('a', 'web:53/udp'), { src: 'a', dst: 'web', port: 53, proto: 'udp' });
    assert.deepEqual(parseTarget('a', 'fd00::2'), { src: 'a', dst: 'fd00::2' });
    assert.deepEqual(parseTarget('a', '[fd00::2]:443'), { src: 'a', dst: 'fd00::2', port: 443, proto: 'tcp' });
  });
  it('refuses a bad port or protocol, naming it and what is allowed', () => {
    assert.throws(() => parseTarget('a', 'b:0'), /invalid port 0 in "b:0": must be 1-65535/);
    assert.throws(() => parseTarget('a', 'b:80/icmp'), /invalid protocol "icmp" in "b:80\/icmp": must be tcp or udp/);
    assert.throws(() => parseTarget('a', 'b:x'), /invalid destination "b:x"/);
  });
});

describe('metrics', () => {
  it('--metrics: a bare port is loopback; IPv4:PORT and [IPv6]:PORT as told; bad values refused', () => {
    assert.deepEqual(parseMetricsAddress('9400'), { host: '127.0.0.1', port: 9400 });
    assert.deepEqual(parseMetricsAddress('0.0.0.0:9400'), { host: '0.0.0.0', port: 9400 });
    assert.deepEqual(parseMetricsAddress('[::1]:9400'), { host: '::1', port: 9400 });
    for (const bad of ['70000', 'host:', 'example.com:80', '[10.0.0.1]:80', '1.2.3.4:']) assert.throws(() => parseMetricsAddress(bad), /invalid --metrics/);
  });
  it('maps HTTP statuses back to error kinds; counts errors per kind next to the histogram', async () => {
    assert.equal(kindOfStatus(200), undefined);
    assert.equal(kindOfStatus(400), 'invalid');
    assert.equal(kindOfStatus(404), 'not-found');
    assert.equal(kindOfStatus(409), 'conflict');
    assert.equal(kindOfStatus(503), 'exhausted');
    assert.equal(kindOfStatus(500), 'internal');
    const m = new DaemonMetrics(async () => ({
      networks: { bridge: 2, vxlan: 0 },
      endpoints: 3,
      sandboxes: 1,
      pools: [{ pool: '10.1.0.0/24', size: 256, used: 4 }],
    }));
    m.observeCall('NetworkDriver.Join', 0.002);
    m.observeCall('NetworkDriver.Join', 0.003, 'conflict');
    const text = await m.text();
    assert.match(text, /^cnm_plugin_call_duration_seconds_count\{method="NetworkDriver.Join",result="ok"\} 1$/m);
    assert.match(text, /^cnm_plugin_call_duration_seconds_count\{method="NetworkDriver.Join",result="conflict"\} 1$/m);
    assert.match(text, /^cnm_plugin_errors_total\{method="NetworkDriver.Join",kind="conflict"\} 1$/m);
    assert.match(text, /^cnm_networks\{driver="bridge"\} 2$/m);
    assert.match(text, /^cnm_ipam_pool_used\{pool="10.1.0.0\/24"\} 4$/m);
    assert.doesNotMatch(text, /cnm_cluster_hosts_alive/, 'no cluster gauge without a shared store');
  });
});

describe('events', () => {
  const put = (key: string, value: unknown, revision: number, time = `2026-12-02T00:00:0${revision}.000Z`) => ({
    type: 'put' as const,
    key,
    value: JSON.stringify(value),
    revision,
    time,
  });
  const del = (key: string, revision: number) => ({ type: 'delete' as const, key, revision, time: `2026-12-02T00:00:0${revision}.000Z` });

  it('an object is created when its record turns ready, removed when its key goes; creating-only records make no event', () => {
    const m = new EventMapper();
    assert.deepEqual(m.map(put('sandboxes/a', { name: 'a', state: 'creating' }, 1)), []);
    assert.deepEqual(
      m.map(put('sandboxes/a', { name: 'a', state: 'ready' }, 2)).map((e) => `${e.type} ${e.action} ${e.id}`),
      ['sandbox create a'],
    );
    assert.deepEqual(m.map(put('sandboxes/a', { name: 'a', state: 'ready' }, 3)), [], 'a rewrite of a ready record is no event');
    assert.deepEqual(
      m.map(put('sandboxes/a', { name: 'a', state: 'broken' }, 4)).map((e) => e.action),
      ['broken'],
    );
    assert.deepEqual(
      m.map(del('sandboxes/a', 5)).map((e) => e.action),
      ['remove'],
    );
    assert.deepEqual(m.map(put('sandboxes/b', { state: 'creating' }, 6)), []);
    assert.deepEqual(m.map(del('sandboxes/b', 7)), [], 'a rolled-back creation was never an object');
  });

  it('an engine network is one event (its bridge record is not another); a Docker network is its bridge record', () => {
    const m = new EventMapper();
    m.map(put('networks/n1', { id: 'n1', name: 'web', driver: 'bridge', state: 'creating', ipv4: { subnet: '10.1.0.0/24' } }, 1));
    assert.deepEqual(m.map(put('drivers/bridge/networks/n1', { id: 'n1', bridge: 'br1', state: 'ready' }, 2)), []);
    const [e] = m.map(put('networks/n1', { id: 'n1', name: 'web', driver: 'bridge', state: 'ready', ipv4: { subnet: '10.1.0.0/24' } }, 3));
    assert.deepEqual([e.type, e.action, e.attributes], ['network', 'create', { name: 'web', driver: 'bridge', subnet: '10.1.0.0/24' }]);
    const [d] = m.map(put('drivers/bridge/networks/d1', { id: 'd1', bridge: 'br-d', state: 'ready' }, 4));
    assert.deepEqual([d.type, d.action, d.id, d.attributes], ['network', 'create', 'd1', { bridge: 'br-d', docker: 'true' }]);
  });

  it("hosts join and leave; a host's own keys carry its name; gc repairs are one event each; seeded keys are not new", () => {
    const m = new EventMapper([{ key: 'local/h1/sandboxes/old', value: JSON.stringify({ state: 'ready' }), modRevision: 1 }]);
    assert.deepEqual(
      m
        .map(put('cluster/hosts/h2', { name: 'h2', underlayIp: '198.18.0.2', startedAt: 'x' }, 2))
        .map((e) => `${e.type} ${e.action} ${e.id} ${e.attributes.underlayIp}`),
      ['host join h2 198.18.0.2'],
    );
    assert.deepEqual(
      m.map(del('cluster/hosts/h2', 3)).map((e) => e.action),
      ['leave'],
    );
    assert.deepEqual(m.map(put('local/h1/sandboxes/old', { state: 'ready' }, 4)), []);
    const [e] = m.map(put('local/h1/sandboxes/new', { state: 'ready' }, 5));
    assert.deepEqual([e.host, e.id], ['h1', 'new']);
    assert.deepEqual(
      m.map(put('gc/last-repairs', { time: 't', actions: ['a1', 'a2'] }, 6)).map((x) => x.attributes.action),
      ['a1', 'a2'],
    );
    assert.deepEqual(m.map(put('ipam/addrs/x', {}, 7)), [], 'IPAM keys make no events');
    assert.deepEqual(splitHost('local/h1/endpoints/s/e'), { host: 'h1', key: 'endpoints/s/e' });
  });

  it("without a time from the store (etcd history), a record's own time, else the last one seen", () => {
    const m = new EventMapper();
    const [a] = m.map({ type: 'put', key: 'sandboxes/a', value: JSON.stringify({ state: 'ready', createdAt: '2026-01-01T00:00:00.000Z' }), revision: 1 });
    assert.equal(a.time, '2026-01-01T00:00:00.000Z');
    const [b] = m.map({ type: 'delete', key: 'sandboxes/a', revision: 2 });
    assert.equal(b.time, '2026-01-01T00:00:00.000Z');
  });

  it('parses times: RFC 3339, Unix seconds, durations back from now; refuses the rest', () => {
    const now = new Date('2026-12-02T10:00:00.000Z');
    assert.equal(parseTime('10m', '--since', now).toISOString(), '2026-12-02T09:50:00.000Z');
    assert.equal(parseTime('1d', '--since', now).toISOString(), '2026-12-01T10:00:00.000Z');
    assert.equal(parseTime('1764669600', '--since', now).toISOString(), '2025-12-02T10:00:00.000Z');
    assert.equal(parseTime('2026-12-02T08:00:00Z', '--since', now).toISOString(), '2026-12-02T08:00:00.000Z');
    assert.throws(() => parseTime('soon', '--until', now), /invalid --until "soon"/);
  });
});

describe('graph dot', () => {
  it('escapes quotes and backslashes in names, and draws one edge per endpoint', () => {
    const t: Topology = {
      host: 'h"1',
      hosts: [],
      networks: [{ id: 'n1', name: 'a"b\\c', driver: 'bridge', subnets: ['10.1.0.0/24'], bridge: 'br1' }],
      sandboxes: [{ name: 's1', endpoints: [{ id: 'e1', networkId: 'n1', ifname: 'eth0', addresses: ['10.1.0.2/24'], published: ['8080->80/tcp'] }] }],
      dockerEndpoints: [],
      remoteEndpoints: [],
    };
    const dot = toDot(t);
    assert.match(dot, /label="network a\\"b\\\\c\\nbridge \(br1\)\\n10\.1\.0\.0\/24"/);
    assert.match(dot, /subgraph "cluster_host_h\\"1"/);
    assert.equal(dot.match(/ -- /g)?.length, 1);
    assert.match(dot, /"sb:s1" -- "net:n1" \[label="eth0 10\.1\.0\.2\\n8080->80\/tcp"\]/);
  });
});
