/**
 * `cnm graph` on the real kernel and store: the JSON model, the dot source, and the SVG Graphviz renders from it
 * (parsed as XML: a node per network and sandbox, an edge per endpoint with its address and published port).
 * cnm runs in a netns that plays the host (the firewall, for the published port, is that netns's).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { CNM, forceClean, netnsNames, requireRoot, uniquePrefix } from './helpers';

const run = promisify(execFile);

interface SvgGroup {
  '@_class'?: string;
  title?: string;
  text?: ({ '#text'?: string } | string)[] | { '#text'?: string } | string;
  g?: SvgGroup | SvgGroup[];
}

describe('cnm graph (real kernel, Graphviz)', function () {
  this.timeout(60_000);
  const p = uniquePrefix();
  const host = `${p}h`;
  let stateDir: string;

  async function cnm(...args: string[]): Promise<string> {
    const r = await run('nsenter', [`--net=/run/netns/${host}`, '--', process.execPath, CNM, '--state-dir', stateDir, ...args], {
      timeout: 30_000,
      env: { ...process.env, CNM_FIREWALL: 'on' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return r.stdout;
  }

  before(async function () {
    requireRoot(this);
    stateDir = mkdtempSync(join(tmpdir(), 'cnm-graph-'));
    await run('ip', ['netns', 'add', host]);
    await run('ip', ['-n', host, 'link', 'set', 'lo', 'up']);
    await cnm('network', 'create', `${p}n`, '--subnet', '10.234.0.0/24');
    await cnm('network', 'create', `${p}m`, '--subnet', '10.235.0.0/24');
    await cnm('sandbox', 'create', `${p}a`);
    await cnm('sandbox', 'create', `${p}b`);
    await cnm('connect', `${p}n`, `${p}a`, '--publish', '18080:80');
    await cnm('connect', `${p}n`, `${p}b`);
    await cnm('connect', `${p}m`, `${p}b`);
  });

  after(async () => {
    if (!stateDir) return;
    for (const sb of ['a', 'b']) await cnm('sandbox', 'rm', `${p}${sb}`).catch(() => undefined);
    for (const n of ['n', 'm']) await cnm('network', 'rm', `${p}${n}`).catch(() => undefined);
    await forceClean(p, []);
    rmSync(stateDir, { recursive: true, force: true });
    assert.deepEqual(
      netnsNames().filter((n) => n.startsWith(p)),
      [],
    );
  });

  it('--format json: networks, sandboxes with their endpoints, addresses and published ports', async () => {
    const t = JSON.parse(await cnm('graph', '--format', 'json')) as {
      host: string;
      networks: { name: string; driver: string; subnets: string[] }[];
      sandboxes: { name: string; endpoints: { addresses: string[]; published: string[]; ifname: string }[] }[];
    };
    assert.equal(t.host, 'local');
    assert.deepEqual(t.networks.map((n) => `${n.name} ${n.driver} ${n.subnets.join(',')}`).sort(), [
      `${p}m bridge 10.235.0.0/24`,
      `${p}n bridge 10.234.0.0/24`,
    ]);
    const a = t.sandboxes.find((s) => s.name === `${p}a`)!;
    assert.deepEqual(a.endpoints[0].addresses, ['10.234.0.2/24']);
    assert.deepEqual(a.endpoints[0].published, ['18080->80/tcp']);
    assert.equal(t.sandboxes.find((s) => s.name === `${p}b`)!.endpoints.length, 2);
  });

  it('--format svg (the default): Graphviz draws a node per network and sandbox and an edge per endpoint', async () => {
    const svg = await cnm('graph');
    const doc = new XMLParser({ ignoreAttributes: false, htmlEntities: true }).parse(svg) as { svg: { g: SvgGroup } };
    const groups: SvgGroup[] = [];
    const walk = (g: SvgGroup | SvgGroup[] | undefined): void => {
      for (const x of Array.isArray(g) ? g : g ? [g] : []) {
        groups.push(x);
        walk(x.g);
      }
    };
    walk(doc.svg.g);
    const textOf = (g: SvgGroup): string =>
      (Array.isArray(g.text) ? g.text : g.text ? [g.text] : []).map((t) => (typeof t === 'string' ? t : (t['#text'] ?? ''))).join(' ');
    const nodes = groups.filter((g) => g['@_class'] === 'node');
    const edges = groups.filter((g) => g['@_class'] === 'edge');
    const netIds = JSON.parse(await cnm('graph', '--format', 'json')).networks.map((n: { id: string }) => n.id) as string[];
    assert.deepEqual(nodes.map((n) => String(n.title)).sort(), [...netIds.map((id) => `net:${id}`), `sb:${p}a`, `sb:${p}b`].sort());
    assert.equal(edges.length, 3, 'one edge per endpoint');
    const edgeA = edges.find((e) => String(e.title).startsWith(`sb:${p}a`))!;
    assert.match(textOf(edgeA), /eth0 10\.234\.0\.2/);
    assert.match(textOf(edgeA), /18080->80\/tcp/);
    assert.match(textOf(nodes.find((n) => String(n.title) === `sb:${p}a`)!), new RegExp(`sandbox ${p}a`));
  });

  it('--format dot gives the source; a bad format is refused naming the choices', async () => {
    const dot = await cnm('graph', '--format', 'dot');
    assert.match(dot, /^graph cnm \{/);
    assert.match(dot, new RegExp(`"sb:${p}b" -- "net:`));
    await assert.rejects(
      cnm('graph', '--format', 'png'),
      (e: { code?: number; stderr?: string }) => e.code === 2 && /invalid --format "png": use svg, dot, json/.test(e.stderr ?? ''),
    );
  });
});
