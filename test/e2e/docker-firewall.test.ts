/**
 * Issue 4's last point: with a real dockerd managing iptables (its DOCKER chains and FORWARD policy DROP in
 * place; test/helpers/docker-harness.ts `dockerIptables`), cnm's firewall still gives Docker containers on cnm
 * networks masquerade, internal networks, icc=false, isolation between networks and published ports.
 *
 * dockerd, the plugin and their firewalls live in the harness's own netns, which plays the host (h.exec runs a
 * command there). "The outside world" is a netns this test makes, joined to it by a veth with a /30 of the
 * benchmark range 198.18.0.0/15 and a route back to the containers' subnets; no traffic goes anywhere else.
 * Containers use busybox nc and ping as clients; servers are test/integration/firewall/peer-tool.js (answers
 * with the peer address it saw), run by the host's node, bind-mounted read-only into the container.
 * The machine's own firewall (every nft table, iptables-save, ip6tables-save) and forwarding sysctls are
 * snapshotted first and must be exactly as before at the end: nothing of this test may reach them.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { DockerHarness, ENGINES, e2eUnavailable, run } from '../helpers/docker-harness';
import { firewallDiff, snapshotFirewall, type FirewallSnapshot } from '../helpers/host-firewall';
import { waitFor } from '../helpers/wait';

const PEER_DIR = path.resolve(__dirname, '../integration/firewall');
const PEER = path.join(PEER_DIR, 'peer-tool.js');
/** The host's node and its libraries, read-only, so a busybox container can run peer-tool.js. */
const nodeMounts = (h: DockerHarness): string[] =>
  [
    ['/usr', '/usr'],
    ['/usr/lib', '/lib'],
    ['/usr/lib64', '/lib64'],
    [PEER_DIR, '/peer'],
  ].flatMap(([host, ctr]) => ['-v', `${h.hostPath(host)}:${ctr}:ro`]);

const eventually = (what: string, fn: () => Promise<boolean>): Promise<void> => waitFor(what, fn, { timeoutMs: 15_000, intervalMs: 200 });

async function ipOk(...args: string[]): Promise<string> {
  const r = await run('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

for (const engine of ENGINES) {
  describe(`e2e: cnm firewall for Docker containers next to dockerd's own iptables rules [${engine.label}]`, function () {
    this.timeout(600_000);
    const u = randomBytes(2).toString('hex');
    const n = parseInt(u, 16);
    const outNs = `cnmfwo-${u}`;
    const hostVeth = `cfo${u}h`;
    const third = 100 + (n % 100);
    const HOST_SIDE = `198.18.${third}.1`;
    const OUTSIDE = `198.18.${third}.2`;
    const R = 200 + (n % 50); // the containers' subnets are 10.R.{1..4}.0/24
    const subnet = (i: number) => `10.${R}.${i}.0/24`;
    const gatewayOf = (i: number) => `10.${R}.${i}.1`;
    const hostPort = 18700 + (n % 200) * 2;
    const saved = { snap: undefined as FirewallSnapshot | undefined };
    const procs: ChildProcess[] = [];
    let h: DockerHarness | undefined;
    let nsMade = false;
    const nets = { masq: '', noMasq: '', internal: '', noIcc: '' };

    before(async function () {
      const why = e2eUnavailable(engine);
      if (why) this.skip();
      saved.snap = await snapshotFirewall();
      h = DockerHarness.prepare({ engine, dockerIptables: true, pluginEnv: { CNM_FIREWALL: 'on' } });
      await h.ensureNetns();
      const engineNs = h.netns;
      await ipOk('netns', 'add', outNs);
      nsMade = true;
      await ipOk('-n', engineNs, 'link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outNs);
      await ipOk('-n', engineNs, 'addr', 'add', `${HOST_SIDE}/30`, 'dev', hostVeth);
      await ipOk('-n', engineNs, 'link', 'set', hostVeth, 'up');
      await ipOk('-n', outNs, 'link', 'set', 'lo', 'up');
      await ipOk('-n', outNs, 'addr', 'add', `${OUTSIDE}/30`, 'dev', 'eth0');
      await ipOk('-n', outNs, 'link', 'set', 'eth0', 'up');
      // only the containers' subnets route back through the host (needed to see an un-masqueraded source)
      await ipOk('-n', outNs, 'route', 'add', `10.${R}.0.0/16`, 'via', HOST_SIDE);
      await serveOutside('tcp', 7000);

      await h.boot();
      const filter = (await h.exec('iptables-save', ['-t', 'filter'])).stdout;
      assert.match(filter, /^:FORWARD DROP/m, "dockerd's FORWARD policy DROP is in place");
      assert.match(filter, /^-A FORWARD -j DOCKER-USER$/m, 'and its DOCKER-USER chain');
      const create = async (name: string, i: number, ...opts: string[]) => {
        await h!.dockerOk([
          'network',
          'create',
          '-d',
          h!.name,
          '--ipam-driver',
          h!.name,
          '--subnet',
          subnet(i),
          '-o',
          `com.docker.network.bridge.name=cf${u}n${i}`,
          ...opts,
          `${h!.name}-${name}`,
        ]);
        return `${h!.name}-${name}`;
      };
      nets.masq = await create('masq', 1);
      nets.noMasq = await create('nomasq', 2, '-o', 'com.docker.network.bridge.enable_ip_masquerade=false');
      nets.internal = await create('internal', 3, '--internal');
      nets.noIcc = await create('noicc', 4, '-o', 'com.docker.network.bridge.enable_icc=false');
    });

    after(async () => {
      const errors: string[] = [];
      const step = async (what: string, fn: () => Promise<void>) => {
        try {
          await fn();
        } catch (err) {
          errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
        }
      };
      for (const p of procs.splice(0)) await step('stop a peer server', () => kill(p));
      if (h) {
        // the networks first, then look: cnm removes its table and chain with its last network
        await step('remove the containers and networks', async () => {
          const ids = (await h!.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
          if (ids.length) await h!.docker(['rm', '-f', ...ids]);
          for (const net of Object.values(nets).filter(Boolean)) await h!.dockerOk(['network', 'rm', net]);
        });
        await step('cnm removed its own rules', async () => {
          assert.doesNotMatch((await h!.exec('iptables-save', [])).stdout, /CNM-FORWARD/);
          assert.doesNotMatch((await h!.exec('nft', ['list', 'tables'])).stdout, /inet cnm/);
        });
        await step('stop the harness', () => h!.stop());
      }
      if (nsMade) await step('delete the outside netns', async () => void (await ipOk('netns', 'del', outNs)));
      if (saved.snap) {
        const snap = saved.snap;
        await step("the machine's firewall and sysctls are untouched", async () => assert.deepEqual(await firewallDiff(snap), []));
      }
      if (errors.length > 0) throw new Error(`cleanup: ${errors.join('; ')}`);
    });

    function kill(p: ChildProcess): Promise<void> {
      if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGKILL');
      return exited;
    }

    /** peer-tool server in the outside netns; resolves once bound. */
    function serveOutside(proto: 'tcp' | 'udp', port: number): Promise<void> {
      return serveIn(outNs, proto, port);
    }

    /** peer-tool server in netns `ns` (nsenter --net: the host's mounts); resolves once bound. */
    async function serveIn(ns: string, proto: 'tcp' | 'udp', port: number, bindIp?: string): Promise<void> {
      const argv = [process.execPath, PEER, 'serve', proto, String(port), ...(bindIp ? [bindIp] : [])];
      const child = spawn('nsenter', [`--net=/run/netns/${ns}`, '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      procs.push(child);
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`peer server exited ${code}`)));
      });
    }

    /** What a peer-tool server at ip:port saw as our address, asked from the outside netns or the host; null if nothing answered. */
    async function ask(from: 'outside' | 'host', proto: 'tcp' | 'udp', ip: string, port: number, timeoutMs = 2000): Promise<string | null> {
      const cmd = [process.execPath, PEER, 'ask', proto, ip, String(port), String(timeoutMs)];
      const r = from === 'host' ? await h!.exec(cmd[0], cmd.slice(1)) : await run('ip', ['netns', 'exec', outNs, ...cmd]);
      return r.code === 0 ? r.stdout.trim() : null;
    }

    /** A container whose main process is a peer-tool TCP server on 7100 (and a UDP one on 7101). */
    async function container(net: string, ...extra: string[]): Promise<{ id: string; ip: string }> {
      const id = await h!.dockerOk([
        'run',
        '-d',
        '--network',
        net,
        ...nodeMounts(h!),
        ...extra,
        h!.image,
        'sh',
        '-c',
        '/usr/bin/node /peer/peer-tool.js serve udp 7101 & exec /usr/bin/node /peer/peer-tool.js serve tcp 7100',
      ]);
      const ip = await h!.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, id]);
      await eventually(`the server in ${id.slice(0, 12)}`, async () => (await h!.docker(['exec', id, 'nc', '-w', '2', '127.0.0.1', '7100'])).code === 0);
      return { id, ip };
    }

    /** busybox nc in a container: the address the peer-tool server at ip:port saw, or null when it could not connect. */
    async function nc(c: { id: string }, ip: string, port: number): Promise<string | null> {
      const r = await h!.docker(['exec', c.id, 'nc', '-w', '2', ip, String(port)]);
      return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
    }

    async function ping(c: { id: string }, ip: string): Promise<boolean> {
      return (await h!.docker(['exec', c.id, 'ping', '-c', '1', '-W', '2', ip])).code === 0;
    }

    it('a container reaches the outside netns, which sees the host-side address (masquerade)', async () => {
      const c = await container(nets.masq);
      assert.equal(await nc(c, OUTSIDE, 7000), HOST_SIDE);
      assert.ok(await ping(c, OUTSIDE));
    });

    it("with enable_ip_masquerade=false the outside netns sees the container's own address", async () => {
      const c = await container(nets.noMasq);
      assert.equal(await nc(c, OUTSIDE, 7000), c.ip);
    });

    it('an --internal network neither reaches the outside nor is reached from it, yet its containers talk', async () => {
      const a = await container(nets.internal);
      const b = await container(nets.internal);
      assert.equal(await nc(a, OUTSIDE, 7000), null);
      assert.equal(await ping(a, OUTSIDE), false);
      assert.equal(await ask('outside', 'tcp', a.ip, 7100), null, 'the outside has a route to it, the firewall drops it');
      assert.equal(await nc(b, a.ip, 7100), b.ip);
    });

    it('enable_icc=false blocks container to container but not container to gateway; icc on allows it', async () => {
      const gw = gatewayOf(4);
      await serveIn(h!.netns, 'tcp', 7102, gw);
      const a = await container(nets.noIcc);
      const b = await container(nets.noIcc);
      assert.equal(await nc(a, b.ip, 7100), null);
      assert.equal(await ping(a, b.ip), false);
      assert.ok(await ping(a, gw), 'the gateway answers ping');
      assert.equal(await nc(a, gw, 7102), a.ip, 'and TCP');
      const c = await container(nets.masq);
      const d = await container(nets.masq);
      assert.equal(await nc(c, d.ip, 7100), c.ip, 'on a network with icc on, containers talk');
    });

    it('two cnm networks are isolated from each other in both directions', async () => {
      const a = await container(nets.masq);
      const b = await container(nets.noMasq);
      assert.equal(await nc(a, b.ip, 7100), null);
      assert.equal(await nc(b, a.ip, 7100), null);
      assert.equal(await ping(a, b.ip), false);
      assert.equal(await nc(a, OUTSIDE, 7000), HOST_SIDE, 'both still reach the outside');
      assert.equal(await nc(b, OUTSIDE, 7000), b.ip);
    });

    it('published TCP and UDP ports answer from the outside netns and from the host, and not after docker rm', async () => {
      const tcpPort = hostPort;
      const udpPort = hostPort + 1;
      const c = await container(nets.masq, '-p', `${tcpPort}:7100/tcp`, '-p', `${udpPort}:7101/udp`);
      await eventually('the published TCP port from the outside', async () => (await ask('outside', 'tcp', HOST_SIDE, tcpPort)) === OUTSIDE);
      assert.equal(await ask('outside', 'udp', HOST_SIDE, udpPort), OUTSIDE, 'DNAT keeps the outside source');
      for (const ip of [HOST_SIDE, '127.0.0.1']) {
        assert.notEqual(await ask('host', 'tcp', ip, tcpPort), null, `tcp from the host to ${ip}`);
        assert.notEqual(await ask('host', 'udp', ip, udpPort), null, `udp from the host to ${ip}`);
      }
      await h!.dockerOk(['rm', '-f', c.id]);
      assert.equal(await ask('outside', 'tcp', HOST_SIDE, tcpPort, 1000), null);
      assert.equal(await ask('outside', 'udp', HOST_SIDE, udpPort, 1000), null);
      assert.equal(await ask('host', 'tcp', '127.0.0.1', tcpPort, 1000), null);
      assert.equal(await ask('host', 'udp', '127.0.0.1', udpPort, 1000), null);
    });

    it('docker run -p with a host IP the host does not have fails, naming the address', async () => {
      const name = `${h!.name}-badip`;
      const r = await h!.docker(['run', '-d', '--name', name, '--network', nets.masq, '-p', `198.18.${third}.3:${hostPort}:7100`, h!.image, 'sleep', '60']);
      await h!.docker(['rm', '-f', name]); // docker run leaves the container it could not start
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`198\\.18\\.${third}\\.3`));
      assert.match(r.stderr, /not an address of this host/);
    });
  });
}
