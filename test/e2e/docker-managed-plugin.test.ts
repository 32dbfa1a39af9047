/**
 * cnm as a managed (v2) Docker plugin on each engine: the plugin directory scripts/build-plugin.sh makes from this
 * machine (built once for both engines), installed the way the README tells users (`docker plugin create`, `set`,
 * `enable`), then used by its reference `NAME:latest` as network and IPAM driver. The engine starts and stops cnm
 * itself, in the harness's netns (the plugin's "host" network). Traffic only between the test's containers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreIpam } from '../../src/ipam/allocator';
import { openStore } from '../../src/store/sqlite-store';
import { DockerHarness, ENGINES, e2eUnavailable, run } from '../helpers/docker-harness';
import { firewallDiff, snapshotFirewall, type FirewallSnapshot } from '../helpers/host-firewall';
import { waitFor } from '../helpers/wait';

const REPO = path.resolve(__dirname, '../../..');
let pluginDir: string | undefined;

/** OUTDIR of `bash scripts/build-plugin.sh OUTDIR`, made on first use and removed after the last suite. */
async function builtPlugin(): Promise<string> {
  if (pluginDir) return pluginDir;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cnm-plugin-'));
  const dir = path.join(tmp, 'plugin');
  const r = await run('bash', [path.join(REPO, 'scripts/build-plugin.sh'), dir], 300_000);
  if (r.code !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`build-plugin.sh exited ${r.code}: ${r.stderr}`);
  }
  pluginDir = dir;
  return dir;
}

after(() => {
  if (pluginDir) rmSync(path.dirname(pluginDir), { recursive: true, force: true });
  pluginDir = undefined;
});

/** pids whose command line runs cnm's bundle from the plugin rootfs, in the given netns. */
function pluginProcesses(netnsFile: string): number[] {
  const want = statSync(netnsFile).ino;
  const pids: number[] = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (!readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('/cnm/dist/cnm.js')) continue;
      if (readlinkSync(`/proc/${d}/ns/net`) === `net:[${want}]`) pids.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

for (const engine of ENGINES) {
  describe(`e2e: cnm as a managed (v2) Docker plugin [${engine.label}]`, function () {
    this.timeout(300_000);
    let h: DockerHarness;
    let plugin: string;
    let pluginId = '';
    const uniq = 200 + (randomBytes(1)[0] % 50);
    const pool = `10.${uniq}.0.0/16`;
    let hostFirewall: FirewallSnapshot | undefined;
    let stateDir = '';
    let seq = 0;

    before(async function () {
      const why = e2eUnavailable(engine);
      if (why) this.skip();
      hostFirewall = await snapshotFirewall();
      const dir = await builtPlugin();
      h = await DockerHarness.start({ engine, noPlugin: true });
      plugin = `${h.name}:latest`;
      stateDir = path.join(h.dir, 'plugin-state'); // the engine sees the harness dir at the same path
      mkdirSync(stateDir);
      await install(dir);
    });

    /** As the README's steps: create, configure (state dir, a default pool, the log level), enable. */
    async function install(dir: string): Promise<void> {
      await h.dockerOk(['plugin', 'create', h.name, dir], 180_000);
      await h.dockerOk(['plugin', 'set', h.name, `state.source=${stateDir}`, `CNM_DEFAULT_ADDRESS_POOLS=base=${pool},size=24`, 'CNM_LOG_LEVEL=debug']);
      await h.dockerOk(['plugin', 'enable', h.name], 120_000);
      pluginId = await h.dockerOk(['plugin', 'inspect', '-f', '{{.Id}}', h.name]);
    }
    after(async () => {
      if (h) await h.stop();
      if (hostFirewall) assert.deepEqual(await firewallDiff(hostFirewall), [], "the machine's firewall and sysctls are untouched");
    });

    const ipOf = (c: string, net: string): Promise<string> => h.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, c]);

    async function ping(c: string, target: string): Promise<void> {
      const r = await h.docker(['exec', c, 'ping', '-c', '1', '-W', '3', target]);
      assert.equal(r.code, 0, `ping ${target} from ${c}: ${r.stdout}${r.stderr}`);
    }

    async function network(): Promise<string> {
      const name = `${h.name}-n${seq++}`;
      await h.dockerOk(['network', 'create', '-d', plugin, '--ipam-driver', plugin, name]);
      return name;
    }

    async function container(net: string, name: string, extra: string[] = []): Promise<string> {
      await h.dockerOk(['run', '-d', '--name', name, '--network', net, ...extra, h.image, 'sleep', '600']);
      return name;
    }

    it('is enabled as network and IPAM driver with the settings given by docker plugin set', async () => {
      const [info] = JSON.parse(await h.dockerOk(['plugin', 'inspect', h.name]));
      assert.equal(info.Enabled, true);
      assert.deepEqual([...info.Config.Interface.Types].sort(), ['docker.ipamdriver/1.0', 'docker.networkdriver/1.0']);
      assert.equal(info.Config.Interface.Socket, 'cnm.sock');
      assert.equal(info.Config.Network.Type, 'host');
      assert.ok(info.Settings.Env.includes('CNM_LOG_LEVEL=debug'), JSON.stringify(info.Settings.Env));
      // the daemon runs in the engine's netns (host network) and says it is listening
      assert.ok(pluginProcesses(`/run/netns/${h.netns}`).length > 0, 'a cnm process in the engine netns');
    });

    it('serves a network from the pool set in CNM_DEFAULT_ADDRESS_POOLS: two containers talk by name and address', async () => {
      const net = await network();
      const subnet = await h.dockerOk(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', net]);
      assert.match(subnet, new RegExp(`^10\\.${uniq}\\.\\d+\\.0/24$`), `subnet ${subnet} from ${pool}`);
      const a = await container(net, `${h.name}-a`);
      const b = await container(net, `${h.name}-b`);
      await ping(a, await ipOf(b, net));
      await ping(b, a);
      // the bridge is in the engine's netns, made by the plugin
      const links = JSON.parse((await h.exec('ip', ['-j', '-d', 'link', 'show', 'type', 'bridge'])).stdout) as unknown[];
      assert.equal(links.length, 1);
    });

    it('keeps its networks and addresses across docker plugin disable and enable', async () => {
      const net = `${h.name}-n0`;
      const a = `${h.name}-a`;
      const before = await ipOf(a, net);
      // in use by a network: disable needs -f, as for any network plugin
      assert.notEqual((await h.docker(['plugin', 'disable', h.name])).code, 0);
      await h.dockerOk(['plugin', 'disable', '-f', h.name], 60_000);
      assert.deepEqual(pluginProcesses(`/run/netns/${h.netns}`), [], 'disabled: no cnm process left');
      await h.dockerOk(['plugin', 'enable', h.name], 120_000);
      assert.equal(await ipOf(a, net), before);
      await ping(a, `${h.name}-b`);
      // its IPAM state survived: a new container gets an address neither of the others has
      const c = await container(net, `${h.name}-c`);
      const taken = [before, await ipOf(`${h.name}-b`, net)];
      assert.ok(!taken.includes(await ipOf(c, net)), `new address ${await ipOf(c, net)} vs ${taken.join(', ')}`);
      await ping(c, a);
    });

    it('hands its networks to a new plugin on the same state (docker plugin rm -f, create, enable: an upgrade)', async () => {
      const net = `${h.name}-n0`;
      const a = `${h.name}-a`;
      const addr = await ipOf(a, net);
      const oldId = pluginId;
      await h.dockerOk(['plugin', 'disable', '-f', h.name], 60_000);
      await h.dockerOk(['plugin', 'rm', '-f', h.name], 60_000);
      await install(await builtPlugin());
      assert.notEqual(pluginId, oldId, 'a new plugin');
      await ping(a, `${h.name}-b`);
      const d = await container(net, `${h.name}-d`);
      assert.notEqual(await ipOf(d, net), addr, 'the address of a running container is not handed out again');
      await ping(d, addr);
    });

    it('brings a --restart always container back with its address after dockerd restarts', async () => {
      const net = await network();
      const r = await container(net, `${h.name}-r`, ['--restart', 'always', '--stop-timeout', '1']);
      const addr = await ipOf(r, net);
      await h.restartDockerd();
      // the engine starts its managed plugins before it restarts containers
      await waitFor('the restart=always container running', async () => (await h.docker(['inspect', '-f', '{{.State.Running}}', r])).stdout.trim() === 'true', {
        timeoutMs: 60_000,
        intervalMs: 250,
      });
      assert.equal(await ipOf(r, net), addr);
      const probe = await container(net, `${h.name}-p`);
      await ping(probe, addr);
      await ping(r, probe);
    });

    it('leaves nothing on the host after docker plugin rm', async () => {
      const ids = (await h.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await h.dockerOk(['rm', '-f', ...ids]);
      for (const n of (await h.dockerOk(['network', 'ls', '-q', '--filter', `driver=${plugin}`])).split('\n').filter(Boolean)) {
        await h.dockerOk(['network', 'rm', n]);
      }
      await h.dockerOk(['plugin', 'disable', h.name], 60_000);
      await h.dockerOk(['plugin', 'rm', h.name], 60_000);
      assert.equal(await h.dockerOk(['plugin', 'ls', '-q']), '');
      const links = (JSON.parse((await h.exec('ip', ['-j', 'link', 'show'])).stdout) as { ifname: string }[]).map((l) => l.ifname);
      assert.deepEqual(links, ['lo'], 'no bridge or veth left in the engine netns');
      const rules = `${(await h.exec('nft', ['list', 'tables'])).stdout}${(await h.exec('iptables-save', [])).stdout}`;
      assert.doesNotMatch(rules, /inet cnm|CNM-FORWARD/);
      assert.deepEqual(pluginProcesses(`/run/netns/${h.netns}`), []);
      // rootfs and state (the propagated mount) went with the plugin; no mount of it is left
      assert.ok(!readdirSync(path.join(h.dir, 'data', 'plugins')).includes(pluginId), 'the plugin dir is removed');
      assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(pluginId));
      // the state dir is the user's (it outlives plugins, like a volume): every pool went back with its network
      const store = openStore(stateDir);
      try {
        assert.deepEqual(await new StoreIpam({ store }).listPools(), []);
      } finally {
        await store.close();
      }
    });
  });
}
