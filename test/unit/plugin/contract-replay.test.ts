import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { dockerPost, makeTestPlugin } from './docker-client';

/** test/fixtures/docker/NN-*.json: the bodies dockerd 20.10 sent (dockerd-trace.log), in its order. */
interface Fixture {
  method: string;
  body: string;
  recordedResponse: Record<string, unknown>;
}

const dir = path.resolve(__dirname, '../../../../test/fixtures/docker');
const fixtures = readdirSync(dir)
  .filter((f) => /^\d\d-.*\.json$/.test(f))
  .sort()
  .map((f) => ({ file: f, ...(JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Fixture) }));

describe('plugin app: replay of a recorded dockerd session', () => {
  it('has the whole recorded session', () => {
    assert.equal(fixtures.length, 25);
    assert.equal(fixtures[0].method, 'Plugin.Activate');
    assert.equal(fixtures.at(-1)!.method, 'NetworkDriver.DeleteNetwork');
  });

  it('rejects the recorded `-o foo=bar` with 400 listing the known options', async () => {
    const t = makeTestPlugin();
    const create = fixtures.find((f) => f.method === 'NetworkDriver.CreateNetwork')!;
    const r = await dockerPost(t.app, create.method, create.body);
    assert.equal(r.status, 400);
    assert.match(r.body.Err, /unknown network option "foo"; known options: .*com\.docker\.network\.driver\.mtu/);
  });

  it('answers every call 200 with at least the recorded fields and leaves nothing behind', async () => {
    const t = makeTestPlugin();
    const swaps: [string, string][] = [];
    for (const f of fixtures) {
      // Docker echoes what the plugin answered earlier: its address space names and PoolIDs.
      let body = swaps.reduce((b, [from, to]) => b.split(from).join(to), f.body);
      body = body.replace('"com.docker.network.generic":{"foo":"bar"}', '"com.docker.network.generic":{"com.docker.network.driver.mtu":"1400"}');
      const r = await dockerPost(t.app, f.method, body === '' ? undefined : body);
      assert.equal(r.status, 200, `${f.file}: ${JSON.stringify(r.body)}`);
      for (const key of Object.keys(f.recordedResponse)) assert.ok(key in r.body, `${f.file}: response lacks ${key}`);
      if (f.method === 'IpamDriver.GetDefaultAddressSpaces') {
        swaps.push([`"${f.recordedResponse.LocalDefaultAddressSpace}"`, JSON.stringify(r.body.LocalDefaultAddressSpace)]);
      }
      if (f.method === 'IpamDriver.RequestPool') swaps.push([`"${f.recordedResponse.PoolID}"`, JSON.stringify(r.body.PoolID)]);
      if (f.method === 'IpamDriver.RequestAddress')
        assert.equal(r.body.Address, f.recordedResponse.Address === '10.233.0.1/24' ? '10.233.0.1/24' : '10.233.0.2/24');
      if (f.method === 'NetworkDriver.CreateNetwork') assert.equal(t.driver.networks.values().next().value!.req.options.mtu, '1400');
      if (f.method === 'NetworkDriver.Join') assert.deepEqual(r.body.Gateway, '10.233.0.1');
    }
    assert.equal(t.driver.networks.size, 0);
    assert.equal(t.ipam.pools.size, 0);
    assert.ok(t.logs.every((l) => l.status === 200));
    assert.equal(t.logs.length, fixtures.length);
  });
});
