import assert from 'node:assert/strict';
import { type CnmError } from '../../../src/core/errors';
import { KNOWN_BRIDGE_OPTIONS, parseBridgeOptions } from '../../../src/drivers/bridge/options';
import { GENERIC_OPTIONS, mapGenericOptions, toDriverCreateNetwork } from '../../../src/plugin/network-options';
import type { CreateNetworkRequest } from '../../../src/plugin/protocol';

describe('network options mapping', () => {
  it('accepts Docker bridge option names and short names', () => {
    assert.deepEqual(
      mapGenericOptions({
        'com.docker.network.bridge.name': 'br-x',
        'com.docker.network.driver.mtu': '1450',
        'com.docker.network.bridge.enable_icc': 'false',
        enable_ip_masquerade: 'True',
      }),
      {
        'bridge.name': 'br-x',
        mtu: '1450',
        'com.docker.network.bridge.enable_icc': 'false',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
      },
    );
    assert.deepEqual(mapGenericOptions({ 'bridge.name': 'br-y', mtu: '9000', enable_icc: '1' }), {
      'bridge.name': 'br-y',
      mtu: '9000',
      'com.docker.network.bridge.enable_icc': 'true',
    });
  });

  it('accepts a null or empty generic map', () => {
    assert.deepEqual(mapGenericOptions(null), {});
    assert.deepEqual(mapGenericOptions({}), {});
  });

  it('rejects two names of one option with different values', () => {
    assert.throws(
      () => mapGenericOptions({ mtu: '1400', 'com.docker.network.driver.mtu': '1500' }),
      (e: CnmError) => e.kind === 'invalid' && /options mtu and com\.docker\.network\.driver\.mtu set mtu to different values/.test(e.message),
    );
  });

  it('rejects MTUs outside 68..65535', () => {
    for (const v of ['67', '65536', '-1', '1e3', '']) {
      assert.throws(() => mapGenericOptions({ mtu: v }), /not a valid MTU: use an integer from 68 to 65535/, v);
    }
  });

  it('rejects an IPv6 network with an MTU below 1280', () => {
    const req: CreateNetworkRequest = {
      NetworkID: 'n1',
      Options: { 'com.docker.network.enable_ipv6': true, 'com.docker.network.generic': { mtu: '1200' } },
      IPv4Data: [{ Pool: '10.1.0.0/24' }],
      IPv6Data: [{ Pool: 'fd00::/64' }],
    };
    assert.throws(() => toDriverCreateNetwork(req), /MTU 1200 is too small for IPv6/);
  });

  it('refuses a Docker 28+ IPv6-only network (--ipv4=false) naming it, and a network without IPv4 data', () => {
    const v6only: CreateNetworkRequest = {
      NetworkID: 'n1',
      Options: { 'com.docker.network.enable_ipv4': false, 'com.docker.network.enable_ipv6': true },
      IPv4Data: [],
      IPv6Data: [{ Pool: 'fd00::/64' }],
    };
    assert.throws(() => toDriverCreateNetwork(v6only), /IPv6-only networks \(--ipv4=false\) are not supported by cnm/);
    assert.throws(() => toDriverCreateNetwork({ ...v6only, Options: {} }), /IPv4Data must hold at least one pool/);
  });

  it('passes --internal as a flag and IPAM data with gateway and aux addresses', () => {
    const r = toDriverCreateNetwork({
      NetworkID: 'n1',
      Options: { 'com.docker.network.enable_ipv6': false, 'com.docker.network.generic': {}, 'com.docker.network.internal': true },
      IPv4Data: [{ AddressSpace: 'a', Pool: '10.1.0.0/24', Gateway: '10.1.0.1/24', AuxAddresses: { h: '10.1.0.5/24' } }],
      IPv6Data: [],
    });
    assert.deepEqual(r, {
      networkId: 'n1',
      options: {},
      ipv4Data: [{ addressSpace: 'a', pool: '10.1.0.0/24', gateway: '10.1.0.1/24', auxAddresses: { h: '10.1.0.5/24' } }],
      ipv6Data: [],
      internal: true,
      enableIPv6: false,
    });
  });

  it('produces only option names the bridge driver accepts', () => {
    const all = mapGenericOptions({ 'bridge.name': 'b', mtu: '1500', enable_icc: 'true', enable_ip_masquerade: 'false' });
    assert.doesNotThrow(() => parseBridgeOptions(all));
    for (const o of GENERIC_OPTIONS) assert.ok((KNOWN_BRIDGE_OPTIONS as readonly string[]).includes(o.name), o.name);
  });

  it('ignores top-level options newer engines add', () => {
    const r = toDriverCreateNetwork({
      NetworkID: 'n1',
      Options: { 'com.docker.network.enable_ipv4': true, 'com.docker.network.generic': null },
      IPv4Data: [{ Pool: '10.1.0.0/24' }],
      IPv6Data: null,
    });
    assert.deepEqual(r.options, {});
  });
});
