import assert from 'node:assert/strict';
import { InvalidArgumentError, ConflictError } from '../../../src/core/errors';
import { describeStep, planApply, planDelete, settingsOf, type Current } from '../../../src/cli/apply/plan';
import { currentState, runPlan } from '../../../src/cli/apply/execute';
import { parseTopology, type Topology } from '../../../src/cli/apply/topology';
import { makeHarness, type Harness } from '../engine/harness';
import type { RunnerDeps } from '../../../src/runner/deps';

const FILE = `
networks:
  front: { subnet: 10.30.0.0/24, gateway: 10.30.0.254 }
  back:  { subnet: 10.31.0.0/24, internal: true }
sandboxes:
  web:
    networks:
      front: { ip: 10.30.0.10, publish: ["8080:80"] }
      back: {}
  client:
    networks: [front]
`;

const parse = (text: string, file = 'topo.yaml'): Promise<Topology> => parseTopology(text, file, '/srv');

async function rejects(text: string, message: RegExp): Promise<void> {
  await assert.rejects(parse(text), (e: unknown) => {
    assert.ok(e instanceof InvalidArgumentError, String(e));
    assert.match(e.message, message);
    return true;
  });
}

const empty = (): Current => ({ networks: [], sandboxes: [], endpoints: [], containers: new Map(), owned: new Map() });
const lines = (t: Topology, cur: Current) => planApply(t, cur).map(describeStep);

describe('cnm apply: the topology file', () => {
  it('reads the shape of the issue, YAML or JSON, with the project named after the file', async () => {
    const t = await parse(FILE);
    assert.equal(t.project, 'topo');
    assert.deepEqual(
      t.networks.map((n) => [n.name, n.subnets, n.gateway, n.internal]),
      [
        ['front', ['10.30.0.0/24'], '10.30.0.254', false],
        ['back', ['10.31.0.0/24'], undefined, true],
      ],
    );
    assert.deepEqual(t.sandboxes[0].endpoints[0], {
      sandbox: 'web',
      network: 'front',
      ip: '10.30.0.10',
      ip6: undefined,
      mac: undefined,
      ifname: undefined,
      publish: ['8080:80'],
    });
    assert.deepEqual(
      t.sandboxes[1].endpoints.map((e) => e.network),
      ['front'],
    );
    const json = await parse(JSON.stringify({ name: 'p1', networks: { n: { subnet: '10.9.0.0/24' } } }), 'x.json');
    assert.equal(json.project, 'p1');
  });

  it('refuses bad files naming the file, the path in it and the value, before anything is made', async () => {
    await rejects('networks:\n  front: { subnet: 10.30.0.0/24, colour: red }\n', /^topo\.yaml: networks\.front\.colour: unknown key; allowed: driver, subnet/);
    await rejects('networks:\n  front: { internal: "yes" }\n', /^topo\.yaml: networks\.front\.internal: must be boolean, got "yes"/);
    await rejects('networks:\n  front: { driver: macvlan }\n', /networks\.front\.driver: "macvlan" is not allowed: use one of bridge, vxlan/);
    await rejects('networks:\n  a: {}\n  a: {}\n', /^topo\.yaml: not valid YAML or JSON \(line 3, column 3\): Map keys must be unique/);
    await rejects(
      'networks:\n  a: { subnet: 10.1.0.0/16 }\n  b: { subnet: 10.1.2.0/24 }\n',
      /networks\.b\.subnet: 10\.1\.2\.0\/24 overlaps 10\.1\.0\.0\/16 of network a/,
    );
    await rejects(
      FILE.replace('ip: 10.30.0.10', 'ip: 10.31.0.10'),
      /sandboxes\.web\.networks\.front\.ip: 10\.31\.0\.10 is outside the subnet 10\.30\.0\.0\/24 of network front/,
    );
    await rejects(FILE.replace('gateway: 10.30.0.254', 'gateway: 10.99.0.1'), /networks\.front\.gateway: 10\.99\.0\.1 is outside the subnet 10\.30\.0\.0\/24/);
    await rejects(FILE.replace('publish: ["8080:80"]', 'publish: ["80:70000"]'), /sandboxes\.web\.networks\.front\.publish\.0: .*70000/);
    await rejects(FILE.replace('ip: 10.30.0.10', 'mac: zz'), /sandboxes\.web\.networks\.front\.mac: "zz" is not of the form/);
    await rejects('sandboxes:\n  "../x": {}\n', /sandboxes\.\.\.\/x: /);
    await rejects('containers:\n  job: { networks: [front] }\n', /containers\.job: must have required property 'command'/);
  });
});

describe('cnm apply: the plan', () => {
  it('creates everything on an empty host, networks first, and keeps it all on the second run', async () => {
    const t = await parse(FILE);
    assert.deepEqual(lines(t, empty()), [
      'create network front',
      'create network back',
      'create sandbox web',
      'create sandbox client',
      'create endpoint web/front',
      'create endpoint web/back',
      'create endpoint client/front',
    ]);
  });

  it('never touches what the project did not make: a clash is an error, a match is kept and said so', async () => {
    const t = await parse('networks:\n  front: { subnet: 10.30.0.0/24 }\n');
    const h = makeHarness();
    await h.engine.networkCreate({ name: 'front', subnets: ['10.40.0.0/24'] });
    const cur = { ...empty(), networks: await h.engine.networkList() };
    assert.throws(
      () => planApply(t, cur),
      (e: unknown) =>
        e instanceof ConflictError &&
        /network front exists with other settings \(subnet .*10\.40\.0\.0\/24.*\) and was not made by project topo/.test(e.message),
    );
    const same = { ...empty(), networks: [{ ...cur.networks[0], ipv4: { ...cur.networks[0].ipv4!, subnet: '10.30.0.0/24' } }] };
    assert.deepEqual(lines(t, same), ['keep network front (not made by this project)']);
  });

  it('deletes what the file names, and nothing else', async () => {
    const t = await parse(FILE);
    const cur: Current = { ...empty(), sandboxes: ['web', 'other'] };
    assert.deepEqual(planDelete(t, cur).map(describeStep), ['remove sandbox web']);
  });
});

/** The plan run on the engine over the fake kernel: what apply, a second apply and a changed file do. */
describe('cnm apply on the engine (fake kernel)', () => {
  let h: Harness;
  const deps = () => ({ engine: h.engine, store: h.store, runner: { store: h.store } as unknown as RunnerDeps, report: () => undefined });
  const state = (t: Topology): Promise<Current> => currentState(deps(), t.project);
  const apply = async (text: string) => {
    const t = await parse(text);
    const steps = planApply(t, await state(t));
    const r = await runPlan(deps(), t, steps, 'apply');
    assert.equal(r.failed, undefined, String(r.failed?.error));
    return steps.filter((s) => s.action !== 'keep').map(describeStep);
  };
  const file = FILE.replace('publish: ["8080:80"]', 'ifname: eth5');

  beforeEach(() => {
    h = makeHarness();
  });

  it('a second apply changes nothing; a changed ip re-creates only that endpoint', async () => {
    assert.equal((await apply(file)).length, 7);
    assert.deepEqual(await apply(file), []);
    const before = new Map((await h.engine.endpointList()).map((e) => [`${e.sandbox}/${e.networkName}`, e.id]));
    assert.deepEqual(await apply(file.replace('ip: 10.30.0.10', 'ip: 10.30.0.11')), ['re-create endpoint web/front (ip 10.30.0.10 -> 10.30.0.11)']);
    const after = new Map((await h.engine.endpointList()).map((e) => [`${e.sandbox}/${e.networkName}`, e.id]));
    for (const k of ['web/back', 'client/front']) assert.equal(after.get(k), before.get(k), `${k} untouched`);
    assert.notEqual(after.get('web/front'), before.get('web/front'));
    assert.equal((await h.engine.sandboxInspect('web')).endpoints.find((e) => e.networkName === 'front')!.address, '10.30.0.11/24');
  });

  it('re-creates a network whose subnet changed with its endpoints, and removes what left the file', async () => {
    await apply(file);
    assert.deepEqual(await apply(file.replace('10.31.0.0/24', '10.32.0.0/24').replace('  client:\n    networks: [front]\n', '')), [
      'remove endpoint client/front',
      'remove sandbox client',
      're-create network back (subnet ["10.31.0.0/24"] -> ["10.32.0.0/24"])',
      're-create endpoint web/back (network back is re-created)',
    ]);
    assert.deepEqual(
      (await h.engine.sandboxList()).map((s) => s.name),
      ['web'],
    );
    assert.equal((await h.engine.networkInspect('back')).ipv4!.subnet, '10.32.0.0/24');
  });

  it('records each object as the project made it', async () => {
    await apply(file);
    const t = await parse(file);
    const rec = await h.store.get('apply/topo/endpoint/web/front');
    assert.equal(rec?.value, settingsOf(t.sandboxes[0].endpoints[0]));
  });
});
