/**
 * Observing cnm under a real dockerd: `cnm daemon --metrics` serves Prometheus text that a scrape parses (plugin
 * call histograms per method and result, errors by kind, object counts, IPAM pool use, firewall applies), and
 * `cnm doctor` explains the path between two Docker containers given by address. Everything runs in the harness's
 * netns (the metrics port is its loopback); the machine's firewall is not touched.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { CLI_MAIN, DockerHarness, ENGINES, e2eUnavailable } from '../helpers/docker-harness';
import { waitFor } from '../helpers/wait';

for (const engine of ENGINES) {
  describe(`e2e: metrics and doctor with a real dockerd [${engine.label}]`, function () {
    this.timeout(300_000);
    let h: DockerHarness;
    let metricsAt = '';
    const octet = 200 + (randomBytes(1)[0] % 50);
    const subnet = `10.${octet}.77.0/24`;
    const containers: string[] = [];
    let net = '';

    before(async function () {
      if (e2eUnavailable(engine)) this.skip();
      h = await DockerHarness.start({ engine, pluginArgs: ['--metrics', '0'] });
      await waitFor('the metrics address in the log', async () => h.pluginLogs().some((l) => l.msg === 'serving metrics'));
      metricsAt = h.pluginLogs().find((l) => l.msg === 'serving metrics')!.metrics as string;
      net = `${h.name}-obs`;
      await h.dockerOk(h.networkCreateArgs('--subnet', subnet, net));
      for (let i = 0; i < 2; i++) containers.push(await h.dockerOk(['run', '-d', '--network', net, h.image, 'sleep', '600']));
    });

    after(async () => {
      if (!h) return;
      if (containers.length) await h.docker(['rm', '-f', ...containers]);
      if (net) await h.docker(['network', 'rm', net]);
      await h.stop();
    });

    /** The families (parsed by the library, which also checks the format) and the raw text. */
    async function scrape(): Promise<{ families: ReturnType<typeof parsePrometheusTextFormat>; text: string }> {
      const get = `require('http').get(${JSON.stringify(metricsAt)},r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>{process.stdout.write(b);process.exit(r.statusCode===200?0:1)})}).on('error',e=>{console.error(e.message);process.exit(2)})`;
      const r = await h.exec(process.execPath, ['-e', get]);
      assert.equal(r.code, 0, `scrape ${metricsAt}: ${r.stderr}`);
      return { families: parsePrometheusTextFormat(r.stdout), text: r.stdout };
    }

    it('serves Prometheus text on loopback only, parsed: calls by method and result, errors by kind, objects, pools, firewall', async () => {
      assert.match(metricsAt, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      // one rejected call: an option value cnm refuses
      const bad = await h.docker(h.networkCreateArgs('-o', 'com.docker.network.bridge.enable_icc=maybe', `${h.name}-bad`));
      assert.notEqual(bad.code, 0);
      const { families, text } = await scrape();
      const fam = (name: string) => {
        const f = families.find((x) => x.name === name);
        assert.ok(f, `${name} is exported`);
        return f;
      };
      const calls = fam('cnm_plugin_call_duration_seconds');
      assert.equal(calls.type, 'HISTOGRAM');
      // the library folds a labelled histogram's series together: the per-label counts are read from their _count lines
      const count = (method: string, result: string) =>
        Number(new RegExp(`^cnm_plugin_call_duration_seconds_count\\{method="${method}",result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      assert.ok(count('NetworkDriver.CreateNetwork', 'ok') >= 1);
      assert.ok(count('NetworkDriver.Join', 'ok') >= 2, 'two containers joined');
      assert.ok(count('IpamDriver.RequestAddress', 'ok') >= 3, 'the gateway and two containers');
      assert.ok(count('NetworkDriver.CreateNetwork', 'invalid') >= 1, 'the refused create');
      const errors = fam('cnm_plugin_errors_total');
      assert.ok(errors.metrics.some((m) => m.labels?.method === 'NetworkDriver.CreateNetwork' && m.labels?.kind === 'invalid' && Number(m.value) >= 1));
      assert.equal(Number(fam('cnm_networks').metrics.find((m) => m.labels?.driver === 'bridge')?.value), 1);
      assert.equal(Number(fam('cnm_endpoints').metrics[0].value), 2);
      assert.equal(Number(fam('cnm_ipam_pool_size').metrics.find((m) => m.labels?.pool === subnet)?.value), 256);
      assert.equal(Number(fam('cnm_ipam_pool_used').metrics.find((m) => m.labels?.pool === subnet)?.value), 3, 'gateway + 2 containers');
      const fw = fam('cnm_firewall_apply_duration_seconds');
      assert.equal(fw.type, 'HISTOGRAM');
      assert.ok(Number(/^cnm_firewall_apply_duration_seconds_count\{result="ok"\} (\d+)$/m.exec(text)?.[1] ?? 0) >= 1);
      // no shared store: no cluster gauge
      assert.equal(
        families.find((f) => f.name === 'cnm_cluster_hosts_alive'),
        undefined,
      );
    });

    it('doctor explains the path between two Docker containers by address (their host side, the firewall)', async () => {
      const ips = await Promise.all(containers.map((c) => h.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, c])));
      const r = await h.exec(process.execPath, [CLI_MAIN, '--state-dir', h.stateDir, '--json', 'doctor', ips[0].trim(), ips[1].trim()]);
      const report = JSON.parse(r.stdout) as { healthy: boolean; steps: { check: string; status: string; detail: string }[] };
      assert.equal(r.code, 0, JSON.stringify(report.steps, null, 2));
      const status = (check: string) => report.steps.find((s) => s.check === check)?.status;
      assert.equal(status('src interface'), 'info', "the container end is in dockerd's netns");
      for (const check of ['network', 'bridge', 'gateway', 'src bridge port', 'dst bridge port', 'isolation (icc)', 'firewall'])
        assert.equal(status(check), 'ok', check);
      // the host end of one container's veth down: named
      const veth = report.steps.find((s) => s.check === 'src bridge port')!.detail.split(' ')[0];
      await h.exec('ip', ['link', 'set', veth, 'down']);
      try {
        const broken = await h.exec(process.execPath, [CLI_MAIN, '--state-dir', h.stateDir, '--json', 'doctor', ips[0].trim(), ips[1].trim()]);
        assert.equal(broken.code, 1);
        const steps = (JSON.parse(broken.stdout) as { steps: { check: string; status: string }[] }).steps;
        assert.deepEqual(
          steps.filter((s) => s.status === 'fail').map((s) => s.check),
          ['src bridge port'],
        );
      } finally {
        await h.exec('ip', ['link', 'set', veth, 'up']);
      }
    });
  });
}
