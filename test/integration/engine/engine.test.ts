import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { cleanUpRun, CnmRun, hostLinks, inNetns, linksOfInstance, netnsNames, requireRoot, uniquePrefix } from './helpers';
import { startEchoServer, tcpRequest } from './tcp';
import { CRASH_STEPS } from '../../../src/core/crash';

/** `ip ARGS` in the host netns: the test's independent view of (and hand on) the kernel. */
const execIp = (args: string[]) => promisify(execFile)('ip', args);
const ipOut = async (args: string[]) => (await execIp(args)).stdout;

describe('engine on the real kernel (cnm CLI)', function () {
  this.timeout(60_000);
  let run: CnmRun;
  let p: string;
  let bridges: string[];

  before(function () {
    requireRoot(this);
  });
  beforeEach(() => {
    run = new CnmRun();
    p = uniquePrefix();
    bridges = [`${p}a`, `${p}b`];
  });
  afterEach(() => cleanUpRun(run, p, [`${p}na`, `${p}nb`], bridges));

  async function twoOnOneBridge(dual = false): Promise<void> {
    const v6 = dual ? ['--ipv6', '--subnet', 'fd00:7a::/64'] : [];
    await run.ok('network', 'create', `${p}na`, '--subnet', '10.213.0.0/24', ...v6, '--opt', `bridge.name=${p}a`);
    await run.ok('sandbox', 'create', `${p}s1`);
    await run.ok('sandbox', 'create', `${p}s2`);
    await run.ok('connect', `${p}na`, `${p}s1`, '--ip', '10.213.0.11', ...(dual ? ['--ip6', 'fd00:7a::11'] : []));
    await run.ok('connect', `${p}na`, `${p}s2`, '--ip', '10.213.0.12', ...(dual ? ['--ip6', 'fd00:7a::12'] : []));
  }

  it('two sandboxes on one bridge exchange TCP data in both directions', async () => {
    await twoOnOneBridge();
    for (const [srv, cli, ip] of [
      [`${p}s1`, `${p}s2`, '10.213.0.11'],
      [`${p}s2`, `${p}s1`, '10.213.0.12'],
    ]) {
      const server = await startEchoServer(srv, ip, 7070);
      try {
        assert.equal(await tcpRequest(cli, ip, 7070, `hello-from-${cli}`), `pong:hello-from-${cli}`);
        assert.equal(await server.done, `got:hello-from-${cli}`);
      } finally {
        server.stop();
      }
    }
  });

  it('each sandbox reaches the gateway (a listener on the gateway IP in the host netns)', async () => {
    await twoOnOneBridge();
    const server: Server = createServer((c) => c.once('data', (d) => c.end(`gw:${d}`)));
    await new Promise<void>((r) => server.listen(7071, '10.213.0.1', r));
    try {
      for (const sb of [`${p}s1`, `${p}s2`]) assert.equal(await tcpRequest(sb, '10.213.0.1', 7071, sb), `gw:${sb}`);
    } finally {
      server.close();
    }
  });

  it('IPv6 dual stack: the sandboxes talk over IPv6 and reach the IPv6 gateway', async () => {
    await twoOnOneBridge(true);
    const server = await startEchoServer(`${p}s1`, 'fd00:7a::11', 7072);
    try {
      assert.equal(await tcpRequest(`${p}s2`, 'fd00:7a::11', 7072, 'v6'), 'pong:v6');
    } finally {
      server.stop();
    }
    const routes = (await inNetns(`${p}s1`, ['ip', '-6', 'route', 'show', 'default'])).stdout;
    assert.match(routes, /default via fd00:7a::1 dev eth0/);
  });

  // two different networks cannot reach each other: isolation.test.ts (it needs cnm's firewall in a netns playing the host)

  it('after the bridge is deleted, `cnm gc` re-creates it with the veths attached and the gateway is reachable again', async () => {
    await run.ok('network', 'create', `${p}na`, '--subnet', '10.219.0.0/24', '--opt', `bridge.name=${p}a`);
    await run.ok('sandbox', 'create', `${p}s1`);
    await run.ok('connect', `${p}na`, `${p}s1`, '--ip', '10.219.0.11');
    const veth = JSON.parse(await run.ok('sandbox', 'inspect', `${p}s1`)).endpoints[0].hostIfname as string;
    const ports = async () => (await ipOut(['-o', 'link', 'show', 'master', `${p}a`])).match(/^\d+: ([^:@]+)/gm)?.map((l) => l.split(': ')[1]) ?? [];
    const ping = async () => (await inNetns(`${p}s1`, ['ping', '-c', '1', '-W', '1', '10.219.0.1'])).code;
    assert.deepEqual(await ports(), [veth]);
    await execIp(['link', 'del', `${p}a`]);
    assert.ok(hostLinks().includes(veth), 'deleting a bridge releases its ports, it does not delete them');
    assert.notEqual(await ping(), 0);
    const report = JSON.parse(await run.ok('gc', '--json'));
    assert.ok(report.actions.includes(`repaired veth ${veth} of endpoint ${p}na/${p}s1: attached to ${p}a`), report.actions.join('\n'));
    assert.deepEqual(await ports(), [veth]);
    assert.equal(await ping(), 0);
    const server: Server = createServer((c) => c.once('data', (d) => c.end(`gw:${d}`)));
    await new Promise<void>((r) => server.listen(7074, '10.219.0.1', r));
    try {
      assert.equal(await tcpRequest(`${p}s1`, '10.219.0.1', 7074, 'again'), 'gw:again');
    } finally {
      server.close();
    }
    assert.equal(JSON.parse(await run.ok('sandbox', 'inspect', `${p}s1`)).endpoints[0].state, 'ready');
  });

  it('disconnect removes the veth from the host and the sandbox', async () => {
    await twoOnOneBridge();
    const ep = JSON.parse(await run.ok('sandbox', 'inspect', `${p}s1`)).endpoints[0];
    assert.ok(hostLinks().includes(ep.hostIfname));
    await run.ok('disconnect', `${p}na`, `${p}s1`);
    assert.ok(!hostLinks().includes(ep.hostIfname));
    assert.doesNotMatch((await inNetns(`${p}s1`, ['ip', '-o', 'link'])).stdout, /eth0/);
  });

  /** The sandbox's endpoint after gc: none (and no eth0), or one that is complete; either way no stray veth. */
  async function afterGc(step: string, instance: string): Promise<'connected' | 'clean'> {
    await run.ok('gc');
    const sb = JSON.parse(await run.ok('sandbox', 'inspect', `${p}s1`));
    const eth0 = (await inNetns(`${p}s1`, ['ip', '-o', 'link'])).stdout.includes('eth0');
    const links = linksOfInstance(instance);
    if (sb.endpoints.length === 1) {
      assert.equal(sb.endpoints[0].state, 'ready', `${step}: a surviving endpoint is complete`);
      assert.ok(eth0, `${step}: a ready endpoint has its eth0`);
      assert.deepEqual(links.sort(), [`${p}a`, sb.endpoints[0].hostIfname].sort(), `${step}: its veth and nothing else`);
      return 'connected';
    }
    assert.equal(sb.endpoints.length, 0, step);
    assert.ok(!eth0, `${step}: no half-made eth0`);
    assert.deepEqual(links, [`${p}a`], `${step}: no veth left`);
    assert.deepEqual(JSON.parse(await run.ok('network', 'inspect', `${p}na`)).endpoints, [], step);
    return 'clean';
  }

  /** A dual-stack network on bridge `<p>a` and sandbox `<p>s1`; resolves the store instance id. */
  async function dualStackSandbox(): Promise<string> {
    await run.ok('network', 'create', `${p}na`, '--subnet', '10.216.0.0/24', '--ipv6', '--subnet', 'fd00:216::/64', '--opt', `bridge.name=${p}a`);
    await run.ok('sandbox', 'create', `${p}s1`);
    return run.instance();
  }

  async function crashAt(step: string, ...args: string[]): Promise<void> {
    const r = await run.crashAt(step, ...args);
    assert.equal(r.signal, 'SIGKILL', `${step}: cnm ${args[0]} was not killed at its crash point (exit ${r.code}): ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`crash point ${step} reached`), `${step} was reached`);
  }

  it('kill -9 at every step of `cnm connect` leaves nothing that `cnm gc` cannot clean', async function () {
    this.timeout(180_000);
    const instance = await dualStackSandbox();
    for (const step of CRASH_STEPS.connect) {
      await crashAt(step, 'connect', `${p}na`, `${p}s1`);
      const after = await afterGc(step, instance);
      // a crash once the endpoint is ready leaves it connected; before, gc rolls it back
      const ready = CRASH_STEPS.connect.indexOf(step) >= CRASH_STEPS.connect.indexOf('connect:ready');
      assert.equal(after, ready ? 'connected' : 'clean', step);
      if (after === 'connected') await run.ok('disconnect', `${p}na`, `${p}s1`);
    }
    // every address went back to the pool: the next connect gets the first ones
    assert.match(await run.ok('connect', `${p}na`, `${p}s1`), /eth0 10\.216\.0\.2\/24/);
  });

  it('kill -9 at every step of `cnm disconnect` leaves nothing that `cnm gc` cannot finish', async function () {
    this.timeout(180_000);
    const instance = await dualStackSandbox();
    for (const step of CRASH_STEPS.disconnect) {
      await run.ok('connect', `${p}na`, `${p}s1`);
      await crashAt(step, 'disconnect', `${p}na`, `${p}s1`);
      assert.equal(await afterGc(step, instance), 'clean', `${step}: gc finishes the disconnect`);
      // the addresses were released: connecting again gets the same first ones
      assert.match(await run.ok('connect', `${p}na`, `${p}s1`), /eth0 10\.216\.0\.2\/24/, step);
      await run.ok('disconnect', `${p}na`, `${p}s1`);
    }
  });

  it('rejects bad input with exit code 2 and names the value', async () => {
    const r = await run.cnm('network', 'create', `${p}na`, '--subnet', '10.217.0.0/24', '--gateway', '10.218.0.1');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^cnm: .*10\.218\.0\.1/);
    const s = await run.cnm('sandbox', 'create', '../escape');
    assert.equal(s.code, 2);
    assert.deepEqual(
      netnsNames().filter((n) => n.includes('escape')),
      [],
    );
  });
});
