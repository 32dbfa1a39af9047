import * as assert from 'node:assert/strict';
import { CREATED_TABLE_MARK, isEmptyFilterTable } from '../../../src/firewall/iptables-compat';
import { type FirewallState } from '../../../src/firewall/model';
import { NftFirewall } from '../../../src/firewall/nft-firewall';
import { FakeHostExec } from './fake-host-exec';
import { silentLogger } from '../../helpers/logs';

const quiet = silentLogger;

function state(v6 = false): FirewallState {
  return {
    networks: [{ id: 'n1', bridge: 'br1', subnets: v6 ? ['10.1.0.0/24', 'fd00:1::/64'] : ['10.1.0.0/24'], masquerade: true, icc: true, internal: false }],
    endpoints: [],
  };
}

describe("iptables-nft's filter tables created for CNM-FORWARD (fake host)", () => {
  let host: FakeHostExec;
  let fw: NftFirewall;
  beforeEach(() => {
    host = new FakeHostExec();
    host.v4.exists = false;
    host.v6.exists = false;
    fw = new NftFirewall({ exec: host, log: quiet });
  });

  it('removes the ip and ip6 filter tables its install created once the last network is gone', async () => {
    await fw.apply(state(true));
    assert.equal(host.v4.exists, true);
    assert.equal(host.v6.exists, true);
    assert.ok(
      host.v4.cnmChain!.some((r) => r.includes(CREATED_TABLE_MARK)),
      'the chain remembers that cnm created the table',
    );
    await fw.removeAll();
    assert.equal(host.v4.exists, false);
    assert.equal(host.v6.exists, false);
  });

  it('remembers across processes (a new firewall instance) and through re-applies', async () => {
    await fw.apply(state());
    await fw.apply(state());
    const other = new NftFirewall({ exec: host, log: quiet });
    await other.apply(state());
    assert.equal(host.v4.cnmChain!.filter((r) => r.includes(CREATED_TABLE_MARK)).length, 1);
    await other.removeAll();
    assert.equal(host.v4.exists, false);
  });

  it('removes the ip6 table it created when the last IPv6 network goes but IPv4 ones stay', async () => {
    await fw.apply(state(true));
    await fw.apply(state(false));
    assert.equal(host.v6.exists, false);
    assert.equal(host.v4.exists, true);
  });

  it('keeps a filter table that existed before cnm installed its chain', async () => {
    host.v4.exists = true;
    await fw.apply(state());
    assert.ok(!host.v4.cnmChain!.some((r) => r.includes(CREATED_TABLE_MARK)));
    await fw.removeAll();
    assert.equal(host.v4.exists, true);
    assert.equal(host.v4.cnmChain, undefined);
  });

  it('keeps a table it created when another tool has since put chains, rules or a DROP policy in it', async () => {
    await fw.apply(state());
    host.v4.otherChains.push('DOCKER');
    await fw.removeAll();
    assert.equal(host.v4.exists, true, 'a chain of another tool');
    host.v4.otherChains.splice(0);
    await fw.apply(state());
    host.v4.forward.push('-j DOCKER-USER');
    await fw.removeAll();
    assert.equal(host.v4.exists, true, 'a rule of another tool');
  });

  it('judges emptiness from nft JSON: only empty accept-policy base chains count as empty', () => {
    const chain = (name: string, extra: object = { type: 'filter', hook: 'forward', prio: 0, policy: 'accept' }) => ({
      chain: { family: 'ip', table: 'filter', name, ...extra },
    });
    const doc = (...items: object[]) => JSON.stringify({ nftables: [{ metainfo: {} }, { table: { family: 'ip', name: 'filter' } }, ...items] });
    assert.equal(isEmptyFilterTable(doc(chain('FORWARD'))), true);
    assert.equal(isEmptyFilterTable(doc()), true);
    assert.equal(isEmptyFilterTable(doc(chain('FORWARD', { type: 'filter', hook: 'forward', prio: 0, policy: 'drop' }))), false);
    assert.equal(isEmptyFilterTable(doc(chain('FORWARD'), { rule: { chain: 'FORWARD', expr: [] } })), false);
    assert.equal(isEmptyFilterTable(doc(chain('DOCKER', {}))), false);
    assert.equal(isEmptyFilterTable(doc({ set: { name: 's' } })), false);
    assert.equal(isEmptyFilterTable('not json'), false);
  });
});
