import assert from 'node:assert/strict';
import { createEndpointBody, createNetworkBody, dockerPost, EID, makeTestPlugin, NID, type TestPlugin } from './docker-client';

const pool = { AddressSpace: 'cnm-local', Pool: '10.9.0.0/24', SubPool: '', Options: {}, V6: false };
const net = createNetworkBody() as Record<string, any>;
const withIpam = (d: Record<string, unknown>): unknown => ({ ...net, IPv4Data: [{ ...net.IPv4Data[0], ...d }] });

/** [name, method, raw body or object, status, Err must match] */
const corpus: [string, string, unknown, number, RegExp][] = [
  ['non-JSON body', 'NetworkDriver.CreateNetwork', 'NetworkID=abc\n', 400, /not valid JSON/],
  ['truncated JSON', 'IpamDriver.RequestPool', '{"AddressSpace":"', 400, /not valid JSON/],
  ['JSON null', 'NetworkDriver.Join', 'null\n', 400, /not valid JSON|must be a JSON object/],
  ['JSON array', 'NetworkDriver.CreateNetwork', '[1,2]\n', 400, /must be a JSON object, got \[1,2\]/],
  ['empty body where one is needed', 'NetworkDriver.CreateEndpoint', undefined, 400, /must be a JSON object, got nothing|missing required field NetworkID/],
  ['missing NetworkID', 'NetworkDriver.CreateNetwork', { ...net, NetworkID: undefined }, 400, /missing required field NetworkID/],
  ['missing EndpointID', 'NetworkDriver.Join', { NetworkID: NID, SandboxKey: '/x' }, 400, /missing required field EndpointID/],
  [
    'missing Pool in IPAMData',
    'NetworkDriver.CreateNetwork',
    { ...net, IPv4Data: [{ Gateway: '10.1.0.1/24' }] },
    400,
    /missing required field IPv4Data\[0\]\.Pool/,
  ],
  ['NetworkID of wrong type', 'NetworkDriver.DeleteNetwork', { NetworkID: 42 }, 400, /NetworkID must be of type string, got 42/],
  ['V6 as a string', 'IpamDriver.RequestPool', { ...pool, V6: 'false' }, 400, /V6 must be of type boolean, got "false"/],
  ['Options as a string', 'NetworkDriver.CreateNetwork', { ...net, Options: 'x' }, 400, /Options must be of type object or null/],
  [
    'generic option value not a string',
    'NetworkDriver.CreateNetwork',
    createNetworkBody({ generic: { mtu: 1400 as unknown as string } }),
    400,
    /com\.docker\.network\.generic\.mtu must be of type string, got 1400/,
  ],
  ['NetworkID with a slash', 'NetworkDriver.DeleteNetwork', { NetworkID: '../../etc' }, 400, /NetworkID "\.\.\/\.\.\/etc" is not allowed/],
  [
    'relative SandboxKey',
    'NetworkDriver.Join',
    { NetworkID: NID, EndpointID: EID, SandboxKey: 'netns/x' },
    400,
    /SandboxKey "netns\/x" is not allowed: it must be an absolute path/,
  ],
  ['pool prefix too long', 'IpamDriver.RequestPool', { ...pool, Pool: '10.0.0.0/33' }, 400, /Pool must be empty or a CIDR .*got "10\.0\.0\.0\/33"/],
  ['pool octet out of range', 'IpamDriver.RequestPool', { ...pool, Pool: '300.1.1.0/24' }, 400, /got "300\.1\.1\.0\/24"/],
  ['pool with host bits', 'IpamDriver.RequestPool', { ...pool, Pool: '10.9.0.1/24' }, 400, /Pool "10\.9\.0\.1\/24" has host bits set/],
  ['pool family does not match V6', 'IpamDriver.RequestPool', { ...pool, Pool: 'fd00::/64' }, 400, /is IPv6 but V6 is false/],
  ['sub-pool outside pool', 'IpamDriver.RequestPool', { ...pool, SubPool: '10.10.0.0/25' }, 400, /SubPool "10\.10\.0\.0\/25" is not inside Pool/],
  ['sub-pool without pool', 'IpamDriver.RequestPool', { ...pool, Pool: '', SubPool: '10.10.0.0/25' }, 400, /needs a Pool/],
  [
    'unknown address space',
    'IpamDriver.RequestPool',
    { ...pool, AddressSpace: 'elsewhere' },
    400,
    /AddressSpace "elsewhere" is unknown; use "cnm-local" or "cnm-global"/,
  ],
  [
    'address with a prefix',
    'IpamDriver.RequestAddress',
    { PoolID: 'p', Address: '10.9.0.5/24', Options: null },
    400,
    /Address must be empty or an IP address .*got "10\.9\.0\.5\/24"/,
  ],
  ['release of an empty address', 'IpamDriver.ReleaseAddress', { PoolID: 'p', Address: '' }, 400, /Address must be an IP address/],
  ['gateway not a CIDR', 'NetworkDriver.CreateNetwork', withIpam({ Gateway: '10.233.0.1' }), 400, /IPv4Data\[0\]\.Gateway must be empty or a CIDR/],
  [
    'gateway outside the pool',
    'NetworkDriver.CreateNetwork',
    withIpam({ Gateway: '10.1.0.1/24' }),
    400,
    /IPv4Data\[0\]\.Gateway "10\.1\.0\.1\/24" is outside the pool 10\.233\.0\.0\/24/,
  ],
  [
    'aux address outside the pool',
    'NetworkDriver.CreateNetwork',
    withIpam({ AuxAddresses: { h: '10.1.0.5/24' } }),
    400,
    /AuxAddresses\.h "10\.1\.0\.5\/24" is outside/,
  ],
  [
    'IPv6 pool in IPv4Data',
    'NetworkDriver.CreateNetwork',
    withIpam({ Pool: 'fd00::/64', Gateway: '' }),
    400,
    /IPv4Data\[0\]\.Pool "fd00::\/64" is not an IPv4 subnet/,
  ],
  ['no IPv4 pool', 'NetworkDriver.CreateNetwork', { ...net, IPv4Data: [] }, 400, /IPv4Data must hold at least one pool/],
  [
    'interface address not a CIDR',
    'NetworkDriver.CreateEndpoint',
    createEndpointBody({ address: '10.233.0.300/24' }),
    400,
    /Interface\.Address must be empty or a CIDR/,
  ],
  ['bad MAC', 'NetworkDriver.CreateEndpoint', createEndpointBody({ mac: '02:42:zz:00:00:01' }), 400, /Interface\.MacAddress must be empty or a MAC address/],
  [
    'unknown -o option',
    'NetworkDriver.CreateNetwork',
    createNetworkBody({ generic: { foo: 'bar' } }),
    400,
    /unknown network option "foo"; known options: com\.docker\.network\.bridge\.name, bridge\.name/,
  ],
  ['MTU not a number', 'NetworkDriver.CreateNetwork', createNetworkBody({ generic: { 'com.docker.network.driver.mtu': 'big' } }), 400, /not a valid MTU/],
  [
    'enable_icc not a boolean',
    'NetworkDriver.CreateNetwork',
    createNetworkBody({ generic: { 'com.docker.network.bridge.enable_icc': 'maybe' } }),
    400,
    /is not a boolean/,
  ],
  [
    'bridge name too long',
    'NetworkDriver.CreateNetwork',
    createNetworkBody({ generic: { 'com.docker.network.bridge.name': 'a-very-long-bridge-name' } }),
    400,
    /at most 15 are allowed/,
  ],
  ['DiscoveryType not an integer', 'NetworkDriver.DiscoverNew', { DiscoveryType: 1.5 }, 400, /DiscoveryType must be of type integer/],
  ['endpoint on an unknown network', 'NetworkDriver.CreateEndpoint', createEndpointBody(), 404, /network ".*" not found/],
  ['join of an unknown endpoint', 'NetworkDriver.Join', { NetworkID: NID, EndpointID: EID, SandboxKey: '/x', Options: {} }, 404, /not found/],
  ['oper info of an unknown endpoint', 'NetworkDriver.EndpointOperInfo', { NetworkID: NID, EndpointID: EID }, 404, /not found/],
  ['address from an unknown pool', 'IpamDriver.RequestAddress', { PoolID: 'nope', Address: '', Options: null }, 404, /pool "nope" not found/],
];

describe('plugin app: malformed requests', () => {
  let t: TestPlugin;
  before(() => {
    t = makeTestPlugin({ bodyLimitBytes: 64 * 1024 });
  });

  for (const [name, method, body, status, err] of corpus) {
    it(`rejects ${name} with ${status} and a clear Err (${method})`, async () => {
      const r = await dockerPost(t.app, method, body);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.match(r.body.Err, err);
      assert.deepEqual(Object.keys(r.body), ['Err']);
    });
  }

  it('rejects a body over the limit with 413', async () => {
    const huge = JSON.stringify({ NetworkID: NID, Options: { 'com.docker.network.generic': { x: 'y'.repeat(70 * 1024) } }, IPv4Data: [] });
    const r = await dockerPost(t.app, 'NetworkDriver.CreateNetwork', huge);
    assert.equal(r.status, 413);
    assert.match(r.body.Err, /at most 65536 are allowed/);
  });

  it('rejects a deeply nested value without crashing', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const r = await dockerPost(t.app, 'NetworkDriver.Join', `{"NetworkID":"a","EndpointID":"b","SandboxKey":"/x","Options":${deep}}`);
    assert.equal(r.status, 400);
    assert.match(r.body.Err, /nested deeper than 32 levels/);
  });

  it('applies nothing when a request is rejected', async () => {
    assert.equal(t.driver.networks.size, 0);
    assert.equal(t.ipam.pools.size, 0);
  });

  it('keeps serving after the whole corpus', async () => {
    const r = await dockerPost(t.app, 'Plugin.Activate');
    assert.equal(r.status, 200);
    const c = await dockerPost(t.app, 'NetworkDriver.CreateNetwork', createNetworkBody());
    assert.equal(c.status, 200);
  });
});
