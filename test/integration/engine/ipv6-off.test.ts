import assert from 'node:assert/strict';
import { cleanUpRun, CnmRun, inNetns, requireRoot, uniquePrefix } from './helpers';

describe('sandbox interfaces and IPv6 on the real kernel (cnm CLI)', function () {
  this.timeout(60_000);
  let run: CnmRun;
  let p: string;

  before(function () {
    requireRoot(this);
  });
  beforeEach(() => {
    run = new CnmRun();
    p = uniquePrefix();
  });
  afterEach(() => cleanUpRun(run, p, [`${p}n4`, `${p}n6`], [`${p}4`, `${p}6`]));

  const sysctl = async (sb: string, ifname: string) => (await inNetns(sb, ['cat', `/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`])).stdout.trim();
  const inet6 = async (sb: string, ifname: string) => (await inNetns(sb, ['ip', '-6', '-o', 'addr', 'show', 'dev', ifname])).stdout;

  it('gives an interface on an IPv4-only network no IPv6 at all, and one on a dual-stack network its IPv6 addresses', async () => {
    await run.ok('network', 'create', `${p}n4`, '--subnet', '10.214.0.0/24', '--opt', `bridge.name=${p}4`);
    await run.ok('network', 'create', `${p}n6`, '--subnet', '10.215.0.0/24', '--ipv6', '--subnet', 'fd00:7b::/64', '--opt', `bridge.name=${p}6`);
    await run.ok('sandbox', 'create', `${p}s`);
    await run.ok('connect', `${p}n4`, `${p}s`);
    await run.ok('connect', `${p}n6`, `${p}s`);
    assert.equal(await sysctl(`${p}s`, 'eth0'), '1');
    assert.equal(await inet6(`${p}s`, 'eth0'), '', 'not even a link-local address on eth0');
    assert.equal(await sysctl(`${p}s`, 'eth1'), '0');
    assert.match(await inet6(`${p}s`, 'eth1'), /fd00:7b::2\/64/);
    assert.match(await inet6(`${p}s`, 'eth1'), /fe80::/);
  });
});
