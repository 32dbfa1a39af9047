import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempBusyboxLayer } from '../../helpers/busybox-layer';
import { CnmRun, forceClean, hostLinks, inNetns, linksOfInstance, netnsNames, requireRoot, uniquePrefix } from './helpers';

/** `cnm apply` / `cnm delete` through the real CLI on the real kernel: 2 networks, 4 sandboxes and a container. */
describe('cnm apply -f on the real kernel', function () {
  this.timeout(120_000);
  let run: CnmRun;
  let p: string;
  let layer: { dir: string; remove(): void };
  let file: string;

  const topology = (over: { webIp?: string; extra?: string } = {}): string => `
name: ${p}
networks:
  ${p}f: { subnet: 10.218.0.0/24, gateway: 10.218.0.254, opt: { bridge.name: ${p}f } }
  ${p}b: { subnet: 10.219.0.0/24, internal: true, opt: { bridge.name: ${p}b } }
sandboxes:
  ${p}web:
    networks:
      ${p}f: { ip: ${over.webIp ?? '10.218.0.10'} }
      ${p}b: {}
  ${p}api:
    networks: { ${p}b: { ip: 10.219.0.20 } }
  ${p}c1:
    networks: [${p}f]
  ${p}c2:
    networks: [${p}f, ${p}b]
containers:
  ${p}job: { layers: [${layer.dir}], command: [sleep, "600"], networks: [${p}f], memory: 64m }
${over.extra ?? ''}`;

  const write = (text: string): void => writeFileSync(file, text);
  const sandboxes = () => netnsNames().filter((n) => n.startsWith(p) || n.startsWith(`ctr-${p}`));

  before(function () {
    requireRoot(this);
    layer = tempBusyboxLayer();
  });
  after(() => layer?.remove());
  beforeEach(() => {
    run = new CnmRun();
    p = uniquePrefix();
    file = join(run.stateDir, 'topo.yaml');
  });
  afterEach(async () => {
    const instance = await run.instance();
    await run.cnm('rm', '-f', `${p}job`);
    await run.cnm('delete', '-f', file);
    await forceClean(p, [`${p}f`, `${p}b`]);
    assert.deepEqual(sandboxes(), [], 'no netns left');
    assert.deepEqual(
      hostLinks().filter((n) => n.startsWith(p)),
      [],
      'no link left',
    );
    assert.deepEqual(linksOfInstance(instance), [], 'no link made by this run left');
    run.removeStateDir();
  });

  async function hostVeths(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const sb of [`${p}web`, `${p}api`, `${p}c1`, `${p}c2`]) {
      for (const e of JSON.parse(await run.ok('sandbox', 'inspect', sb)).endpoints) out.set(`${sb}/${e.networkName}`, e.hostIfname);
    }
    return out;
  }

  it('makes the topology, changes nothing the second time, re-creates only a changed endpoint, and deletes it all', async () => {
    write(topology());
    const first = await run.ok('apply', '-f', file);
    assert.match(first, /created 13, re-created 0, removed 0, kept 0/);
    assert.deepEqual(sandboxes().sort(), [`${p}api`, `${p}c1`, `${p}c2`, `${p}web`, `ctr-${p}job`].sort());
    // the endpoints work: web reaches c1 on the front network, api has its fixed address
    assert.equal((await inNetns(`${p}c1`, ['ping', '-c', '1', '-W', '2', '10.218.0.10'])).code, 0, 'c1 -> web');
    assert.match((await inNetns(`${p}api`, ['ip', '-o', '-4', 'addr'])).stdout, /10\.219\.0\.20\/24/);
    const ps = JSON.parse(await run.ok('--json', 'ps')) as { name: string; status: string }[];
    assert.deepEqual(
      ps.map((c) => [c.name, c.status]),
      [[`${p}job`, 'running']],
    );

    assert.match(await run.ok('apply', '-f', file), /^nothing to change: 13 objects up to date$/m);

    const before = await hostVeths();
    write(topology({ webIp: '10.218.0.11' }));
    const plan = await run.ok('apply', '-f', file, '--dry-run');
    assert.deepEqual(
      plan.split('\n').filter((l) => l && !l.startsWith('keep')),
      [`re-create endpoint ${p}web/${p}f (ip 10.218.0.10 -> 10.218.0.11)`, '1 change planned (dry run: nothing done)'],
    );
    assert.deepEqual(await hostVeths(), before, 'a dry run changes nothing');
    assert.match(await run.ok('apply', '-f', file), /created 0, re-created 1, removed 0, kept 12/);
    const after = await hostVeths();
    for (const [k, v] of before) if (k !== `${p}web/${p}f`) assert.equal(after.get(k), v, `${k} untouched`);
    assert.notEqual(after.get(`${p}web/${p}f`), before.get(`${p}web/${p}f`));
    assert.match((await inNetns(`${p}web`, ['ip', '-o', '-4', 'addr'])).stdout, /10\.218\.0\.11\/24/);

    assert.match(await run.ok('delete', '-f', file), /removed 13/);
    assert.deepEqual(sandboxes(), []);
    assert.deepEqual(JSON.parse(await run.ok('--json', 'network', 'ls')), []);
    assert.deepEqual(JSON.parse(await run.ok('--json', 'ps')), []);
  });

  it('a file with a bad value makes nothing', async () => {
    write(topology({ extra: `  ${p}bad: { layers: [${layer.dir}], command: [sleep, "1"], memory: lots }\n` }));
    const r = await run.cnm('apply', '-f', file);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /lots/);
    assert.deepEqual(sandboxes(), []);
    assert.deepEqual(JSON.parse(await run.ok('--json', 'network', 'ls')), []);
  });

  it('an apply killed -9 midway leaves objects complete or absent, and the next apply converges', async () => {
    write(topology());
    // dies inside the first connect, after the networks and sandboxes were made
    const r = await run.crashAt('connect:configured', 'apply', '-f', file);
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    assert.ok(sandboxes().includes(`${p}web`), 'the sandboxes were made before the crash');
    assert.match(await run.ok('apply', '-f', file), /kept/);
    assert.match(await run.ok('apply', '-f', file), /^nothing to change: 13 objects up to date$/m);
    assert.equal((await inNetns(`${p}c1`, ['ping', '-c', '1', '-W', '2', '10.218.0.10'])).code, 0, 'c1 -> web after converging');
  });
});
