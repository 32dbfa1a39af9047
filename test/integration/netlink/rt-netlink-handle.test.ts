import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { netlinkHandleContract } from '../../contract/netlink-handle.contract';
import { RealNetnsOps } from '../../../src/netlink/netns';

const isRoot = process.getuid?.() === 0;
const PREFIX = `cnmt${process.pid}`;
let counter = 0;

function ipNetnsList(): string[] {
  // `ip netns list` prints "name" or "name (id: N)"
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter(Boolean);
}

async function removeOurs(ops: RealNetnsOps): Promise<void> {
  for (const n of ops.list()) if (n.startsWith(PREFIX)) await ops.delete(n);
}

describe('RtNetlinkHandle and RealNetnsOps on the kernel (root)', function () {
  before(function () {
    if (!isRoot) this.skip();
  });
  after(async () => {
    if (isRoot) await removeOurs(new RealNetnsOps());
  });

  netlinkHandleContract('RtNetlinkHandle', async () => {
    const ops = new RealNetnsOps();
    const prefix = `${PREFIX}-${++counter}`;
    const nsA = `${prefix}-a`;
    const nsB = `${prefix}-b`;
    await ops.create(nsA);
    await ops.create(nsB);
    const h = ops.openHandle(nsA);
    return {
      ops,
      h,
      nsA,
      nsB,
      prefix,
      readSysctl: (path) => execFileSync('ip', ['netns', 'exec', nsA, 'cat', `/proc/sys/net/${path}`], { encoding: 'utf8' }).trim(),
      teardown: async () => {
        h.close();
        for (const n of ops.list()) if (n.startsWith(prefix)) await ops.delete(n);
      },
    };
  });

  describe('RealNetnsOps seen by iproute2', () => {
    const ops = new RealNetnsOps();
    afterEach(() => removeOurs(ops));

    it('creates a netns that `ip netns list` and `ip netns exec` see, and deletes it', async () => {
      const n = `${PREFIX}-ip`;
      await ops.create(n);
      assert.ok(ipNetnsList().includes(n));
      const links = execFileSync('ip', ['-netns', n, '-o', 'link', 'show'], { encoding: 'utf8' });
      assert.match(links, /^1: lo:/);
      // a really separate netns: a link made there is invisible on the host
      execFileSync('ip', ['-netns', n, 'link', 'add', 'cnmt-probe', 'type', 'bridge']);
      const host = ops.openHandle(null);
      try {
        assert.equal(await host.linkByName('cnmt-probe'), undefined);
      } finally {
        host.close();
      }
      await ops.delete(n);
      assert.ok(!ipNetnsList().includes(n));
      assert.ok(!ops.exists(n));
    });

    it('leaves the main thread in its own netns and leaks no fd after create, open, veth, close, delete', async () => {
      const nsOfMain = (): string => execFileSync('readlink', [`/proc/${process.pid}/task/${process.pid}/ns/net`], { encoding: 'utf8' });
      const fds = (): number => readdirSync('/proc/self/fd').length;
      const before = nsOfMain();
      const fdsBefore = fds();
      const n = `${PREFIX}-home`;
      const m = `${PREFIX}-peer`;
      await ops.create(n);
      await ops.create(m);
      const h = ops.openHandle(n);
      await h.linkAdd({ kind: 'veth', name: 'v0', up: true, peer: { name: 'eth0', netns: m, up: true } });
      h.sysctlSet('ipv4/conf/v0/forwarding', '1');
      h.close();
      await ops.delete(n);
      await ops.delete(m);
      assert.equal(nsOfMain(), before);
      assert.equal(fds(), fdsBefore);
    });

    it('reads dumps that span many kernel messages: 300 links, their addresses and routes made by iproute2', async () => {
      const n = `${PREFIX}-dump`;
      await ops.create(n);
      const batch = [];
      for (let i = 0; i < 300; i++) {
        batch.push(`link add d${i} type bridge`, `link set d${i} up`, `addr add 10.77.${i >> 8}.${i & 255}/32 dev d${i}`);
        batch.push(`route add 10.78.${i >> 8}.${i & 255}/32 dev d${i}`);
      }
      execFileSync('ip', ['-netns', n, '-batch', '-'], { input: batch.join('\n') + '\n' });
      const h = ops.openHandle(n);
      try {
        const links = await h.linkList();
        assert.equal(links.filter((l) => /^d\d+$/.test(l.name) && l.kind === 'bridge' && l.up).length, 300);
        const addrs = (await h.addrList()).filter((a) => a.family === 4 && a.ifname !== 'lo');
        assert.equal(addrs.length, 300);
        assert.deepEqual(
          addrs.find((a) => a.ifname === 'd299'),
          { ifname: 'd299', ifindex: links.find((l) => l.name === 'd299')!.index, family: 4, cidr: '10.77.1.43/32' },
        );
        const routes = (await h.routeList(4)).filter((r) => r.dst.startsWith('10.78.'));
        assert.equal(routes.length, 300);
        assert.deepEqual(
          routes.find((r) => r.dev === 'd7'),
          { dst: '10.78.0.7/32', family: 4, table: 254, dev: 'd7' },
        );
        // the socket still pairs requests and replies after the dumps
        assert.equal((await h.linkByName('d150'))?.name, 'd150');
        await assert.rejects(h.linkDel('nonexistent0'), /nonexistent0/);
      } finally {
        h.close();
        await ops.delete(n);
      }
    });

    it('rolls back the netns file when it cannot be made', async () => {
      const n = `${PREFIX}-dup`;
      await ops.create(n);
      await assert.rejects(ops.create(n));
      assert.ok(ops.exists(n));
      await ops.delete(n);
      assert.deepEqual(
        ops.list().filter((x) => x.startsWith(PREFIX)),
        [],
      );
    });

    it('leaves no netns or host link behind after the suite', async () => {
      const host = ops.openHandle(null);
      try {
        const names = (await host.linkList()).map((l) => l.name);
        assert.ok(!names.some((x) => x.startsWith('cnmt')), `host links: ${names.join(',')}`);
      } finally {
        host.close();
      }
      assert.deepEqual(
        ipNetnsList().filter((x) => x.startsWith(PREFIX)),
        [],
      );
    });
  });
});
