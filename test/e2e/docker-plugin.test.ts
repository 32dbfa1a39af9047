/**
 * cnm as a Docker plugin against a real dockerd (test/helpers/docker-harness.ts): the real docker CLI,
 * the real plugin (`cnm daemon`: BridgeDriver + StoreIpam on a temp state dir), busybox containers.
 * Traffic goes only between containers of the test's own networks and their gateways.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { StoreIpam } from '../../src/ipam/allocator';
import { openStore } from '../../src/store/sqlite-store';
import { DockerHarness, ENGINES, e2eUnavailable } from '../helpers/docker-harness';
import { firewallDiff, snapshotFirewall, type FirewallSnapshot } from '../helpers/host-firewall';
import { waitFor } from '../helpers/wait';

for (const engine of ENGINES) {
  describe(`e2e: cnm as a Docker network + IPAM plugin [${engine.label}]`, function () {
    this.timeout(300_000);
    let h: DockerHarness;
    const created: { containers: string[]; networks: string[] } = { containers: [], networks: [] };
    let seq = 0;
    // no leading zero: the IPv6 prefixes built from it are compared as text with Docker's canonical output
    const uniq = (0x1000 + (randomBytes(2).readUInt16BE(0) % 0xf000)).toString(16);

    // The plugin runs with its firewall on, as users run it, in the harness's netns: it turns IP forwarding on
    // there. The machine's own firewall and sysctls must be exactly as before at the end.
    let hostFirewall: FirewallSnapshot | undefined;
    before(async function () {
      const why = e2eUnavailable(engine);
      if (why) this.skip();
      hostFirewall = await snapshotFirewall();
      h = await DockerHarness.start({ engine });
    });
    after(async () => {
      let rules = '';
      if (h) {
        // every network is gone (afterEach): cnm has removed its nft table and iptables chain with the last one
        rules = `${(await h.exec('nft', ['list', 'tables'])).stdout}${(await h.exec('iptables-save', [])).stdout}`;
        await h.stop();
      }
      assert.doesNotMatch(rules, /inet cnm|CNM-FORWARD/, 'the plugin removed its nft table and iptables chain with its last network');
      if (hostFirewall) assert.deepEqual(await firewallDiff(hostFirewall), [], "the machine's firewall and sysctls are untouched");
    });
    afterEach(async () => {
      if (!h) return;
      if (created.containers.length) await h.docker(['rm', '-f', ...created.containers.splice(0)]);
      for (const n of created.networks.splice(0)) await h.docker(['network', 'rm', n]);
    });

    /** a 10.2xx.N.0/24 subnet per network, so tests never overlap each other or the host */
    const subnet = (): string => `10.${230 + (seq % 20)}.${(parseInt(uniq, 16) + seq) % 250}.0/24`;
    const prefixOf = (cidr: string): string => cidr.split('.').slice(0, 3).join('.');

    async function netCreate(args: string[]): Promise<{ name: string; bridge: string }> {
      const i = seq++;
      const name = `${h.name}-n${i}`;
      const bridge = `ce${uniq}n${i}`;
      await h.dockerOk(['network', 'create', '-d', h.name, '--ipam-driver', h.name, '-o', `com.docker.network.bridge.name=${bridge}`, ...args, name]);
      created.networks.push(name);
      return { name, bridge };
    }

    async function runDetached(net: string, extra: string[] = []): Promise<string> {
      const id = await h.dockerOk(['run', '-d', '--network', net, ...extra, h.image, 'sleep', '600']);
      created.containers.push(id);
      return id;
    }

    const ipOf = (c: string, net: string, field = 'IPAddress'): Promise<string> =>
      h.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").${field}}}`, c]);

    async function ping(c: string, target: string, v6 = false): Promise<void> {
      const r = await h.docker(['exec', c, 'ping', ...(v6 ? ['-6'] : []), '-c', '1', '-W', '3', target]);
      assert.equal(r.code, 0, `ping ${target} from ${c.slice(0, 12)}: ${r.stdout}${r.stderr}`);
    }

    async function links(): Promise<{ ifname: string; master?: string; linkinfo?: { info_kind?: string } }[]> {
      return JSON.parse((await h.exec('ip', ['-j', '-d', 'link', 'show'])).stdout);
    }

    async function poolsInState(): Promise<string[]> {
      const store = openStore(h.stateDir);
      try {
        return (await new StoreIpam({ store }).listPools()).map((p) => p.pool);
      } finally {
        await store.close();
      }
    }

    it('creates, inspects and removes a network with a user subnet and gateway', async () => {
      const sn = subnet();
      const { name } = await netCreate(['--subnet', sn, '--gateway', `${prefixOf(sn)}.254`]);
      const ipam = JSON.parse(await h.dockerOk(['network', 'inspect', '-f', '{{json .IPAM}}', name]));
      assert.deepEqual([ipam.Driver, ipam.Config[0].Subnet, ipam.Config[0].Gateway], [h.name, sn, `${prefixOf(sn)}.254`]);
      assert.equal(await h.dockerOk(['network', 'inspect', '-f', '{{.Driver}}', name]), h.name);
      assert.ok((await poolsInState()).includes(sn));
    });

    it('creates a network from a default pool when no subnet is given', async () => {
      const { name } = await netCreate([]);
      const sn = await h.dockerOk(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', name]);
      assert.match(sn, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
      const c = await runDetached(name);
      await ping(c, (await h.dockerOk(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', name])) || sn.replace(/\.0\/\d+$/, '.1'));
    });

    it('lets two containers ping each other by IP and reach the gateway', async () => {
      const sn = subnet();
      const { name } = await netCreate(['--subnet', sn]);
      const a = await runDetached(name);
      const b = await runDetached(name);
      const [ipA, ipB] = [await ipOf(a, name), await ipOf(b, name)];
      assert.notEqual(ipA, ipB);
      await ping(a, ipB);
      await ping(b, ipA);
      await ping(a, `${prefixOf(sn)}.1`);
      assert.equal(await ipOf(a, name, 'Gateway'), `${prefixOf(sn)}.1`);
    });

    it('connects and disconnects a running container', async () => {
      const n1 = await netCreate(['--subnet', subnet()]);
      const sn2 = subnet();
      const n2 = await netCreate(['--subnet', sn2]);
      const a = await runDetached(n1.name);
      const b = await runDetached(n2.name);
      await h.dockerOk(['network', 'connect', '--ip', `${prefixOf(sn2)}.77`, n2.name, a]);
      assert.equal(await ipOf(a, n2.name), `${prefixOf(sn2)}.77`);
      await ping(a, await ipOf(b, n2.name));
      await h.dockerOk(['network', 'disconnect', n2.name, a]);
      const r = await h.docker(['exec', a, 'ping', '-c', '1', '-W', '1', await ipOf(b, n2.name)]);
      assert.notEqual(r.code, 0);
      // the address came back: a second connect with the same --ip works
      await h.dockerOk(['network', 'connect', '--ip', `${prefixOf(sn2)}.77`, n2.name, a]);
    });

    it('gives a container its static --ip', async () => {
      const sn = subnet();
      const { name } = await netCreate(['--subnet', sn]);
      const a = await runDetached(name, ['--ip', `${prefixOf(sn)}.42`]);
      assert.equal(await ipOf(a, name), `${prefixOf(sn)}.42`);
      const clash = await h.docker(['run', '-d', '--network', name, '--ip', `${prefixOf(sn)}.42`, h.image, 'sleep', '600']);
      if (clash.stdout.trim()) created.containers.push(clash.stdout.trim());
      assert.notEqual(clash.code, 0, 'a second container got the same --ip');
    });

    it('allocates only inside --ip-range', async () => {
      const sn = subnet();
      const { name } = await netCreate(['--subnet', sn, '--ip-range', `${prefixOf(sn)}.128/28`]);
      for (let i = 0; i < 3; i++) {
        const ip = await ipOf(await runDetached(name), name);
        const last = Number(ip.split('.')[3]);
        assert.ok(last >= 128 && last < 144, `${ip} is outside ${prefixOf(sn)}.128/28`);
      }
    });

    it('never hands out an --aux-address', async () => {
      const sn = subnet();
      const p = prefixOf(sn);
      const { name } = await netCreate(['--subnet', sn, '--ip-range', `${p}.0/29`, '--aux-address', `host1=${p}.2`, '--aux-address', `host2=${p}.3`]);
      const ips: string[] = [];
      for (let i = 0; i < 4; i++) ips.push(await ipOf(await runDetached(name), name));
      assert.ok(!ips.includes(`${p}.2`) && !ips.includes(`${p}.3`), ips.join(' '));
      assert.equal(new Set(ips).size, 4);
    });

    it('runs dual-stack IPv4 + IPv6', async function () {
      if (readFileSync('/proc/sys/net/ipv6/conf/all/disable_ipv6', 'utf8').trim() !== '0') this.skip();
      const v6 = `fd00:${uniq}:${seq}::/64`;
      const { name } = await netCreate(['--subnet', subnet(), '--ipv6', '--subnet', v6]);
      const a = await runDetached(name);
      const b = await runDetached(name);
      const ip6B = await ipOf(b, name, 'GlobalIPv6Address');
      assert.ok(ip6B.startsWith(`fd00:${uniq}:${seq - 1}:`), ip6B);
      await ping(a, await ipOf(b, name));
      await ping(a, ip6B, true);
    });

    it('isolates an --internal network: containers talk, no default route', async () => {
      const { name } = await netCreate(['--internal', '--subnet', subnet()]);
      const a = await runDetached(name);
      const b = await runDetached(name);
      await ping(a, await ipOf(b, name));
      const routes = await h.dockerOk(['exec', a, 'ip', 'route']);
      assert.doesNotMatch(routes, /^default/m);
    });

    it('serves 20 parallel docker run with distinct addresses and no errors', async () => {
      const { name } = await netCreate(['--subnet', subnet()]);
      const results = await Promise.all(Array.from({ length: 20 }, () => h.docker(['run', '-d', '--network', name, h.image, 'sleep', '600'], 180_000)));
      for (const r of results) if (r.stdout.trim()) created.containers.push(r.stdout.trim());
      assert.deepEqual(
        results.filter((r) => r.code !== 0).map((r) => r.stderr),
        [],
      );
      const ips = await Promise.all(results.map((r) => ipOf(r.stdout.trim(), name)));
      assert.equal(new Set(ips).size, 20, ips.join(' '));
    });

    it('keeps networks, endpoints and addresses when the plugin is killed -9 and restarted', async () => {
      const sn = subnet();
      const { name } = await netCreate(['--subnet', sn]);
      const a = await runDetached(name);
      const b = await runDetached(name);
      await h.stopPlugin('SIGKILL');
      await ping(a, await ipOf(b, name)); // the kernel keeps forwarding without the plugin
      // dockerd retries dialing a missing plugin for ~15 s: a run started now completes after the restart
      const before = new Set((await h.dockerOk(['ps', '-aq', '--no-trunc'])).split('\n'));
      const pending = h.docker(['run', '-d', '--network', name, h.image, 'sleep', '600']);
      // the container exists before dockerd connects it to the network (and so dials the missing plugin)
      await waitFor('dockerd to create the container', async () =>
        (await h.dockerOk(['ps', '-aq', '--no-trunc'])).split('\n').some((id) => id && !before.has(id)),
      );
      await h.startPlugin();
      const c = await pending;
      if (c.stdout.trim()) created.containers.push(c.stdout.trim());
      assert.equal(c.code, 0, c.stderr);
      const ips = [await ipOf(a, name), await ipOf(b, name), await ipOf(c.stdout.trim(), name)];
      assert.equal(new Set(ips).size, 3, ips.join(' '));
      await ping(c.stdout.trim(), ips[0]);
      await h.dockerOk(['rm', '-f', a]);
      await ping(c.stdout.trim(), ips[1]);
    });

    it('brings containers back after a dockerd restart, with no leaked address or endpoint', async () => {
      const sn = subnet();
      const { name, bridge } = await netCreate(['--subnet', sn]);
      const a = await runDetached(name, ['--restart', 'always']);
      const b = await runDetached(name);
      const before = await ipOf(a, name);
      await h.restartDockerd();
      await waitFor('the --restart always container to run again', async () => (await h.dockerOk(['inspect', '-f', '{{.State.Running}}', a])) === 'true', {
        timeoutMs: 60_000,
        intervalMs: 500,
      });
      const ipA = await ipOf(a, name);
      assert.match(ipA, new RegExp(`^${prefixOf(sn).replace(/\./g, '\\.')}\\.\\d+$`), `before: ${before}`);
      await ping(a, `${prefixOf(sn)}.1`);
      // b has no restart policy: it stays stopped and holds nothing
      assert.equal(await h.dockerOk(['inspect', '-f', '{{.State.Running}}', b]), 'false');
      await h.dockerOk(['rm', '-f', a, b]);
      created.containers = created.containers.filter((c) => c !== a && c !== b);
      await h.dockerOk(['network', 'rm', name]);
      created.networks = created.networks.filter((n) => n !== name);
      assert.ok(!(await links()).some((l) => l.ifname === bridge || l.master === bridge), 'bridge or its ports left behind');
      assert.ok(!(await poolsInState()).includes(sn), `pool ${sn} still allocated`);
    });

    it('leaves no bridge, veth or allocation after docker network rm', async () => {
      const sn = subnet();
      const { name, bridge } = await netCreate(['--subnet', sn]);
      const a = await runDetached(name);
      const ports = (await links()).filter((l) => l.master === bridge).map((l) => l.ifname);
      assert.equal(ports.length, 1);
      assert.ok(
        (await links()).some((l) => l.ifname === bridge),
        `bridge ${bridge} in the engine's netns`,
      );
      await h.dockerOk(['rm', '-f', a]);
      created.containers = created.containers.filter((c) => c !== a);
      await h.dockerOk(['network', 'rm', name]);
      created.networks = created.networks.filter((n) => n !== name);
      const after = (await links()).map((l) => l.ifname);
      assert.ok(!after.includes(bridge), `bridge ${bridge} left behind`);
      for (const p of ports) assert.ok(!after.includes(p), `veth ${p} left behind`);
      assert.ok(!(await poolsInState()).includes(sn), `pool ${sn} still allocated`);
      const errors = h.pluginLogs().filter((l) => l.status >= 500);
      assert.deepEqual(errors, []);
    });
  });
}
