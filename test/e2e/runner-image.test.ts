/**
 * `cnm run --image` with an image Docker itself built and saved: `docker build --network none` of two layers on the
 * imported busybox image (the second removing a file the first added, and setting Env, WorkingDir, Cmd), then
 * `docker save`; cnm runs it with the file absent and the config's defaults.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOCKER_CLI, DockerHarness, ENGINES, e2eUnavailable, run } from '../helpers/docker-harness';

const CNM = path.join(__dirname, '../../cnm.js');

for (const engine of ENGINES) {
  describe(`e2e: cnm run --image of a \`docker build\` + \`docker save\` image [${engine.label}]`, function () {
    this.timeout(300_000);
    let h: DockerHarness | undefined;
    let dir: string;

    before(async function () {
      if (e2eUnavailable(engine)) this.skip();
      h = await DockerHarness.start({ engine, prefix: 'cnm-img' });
      dir = mkdtempSync(path.join(os.tmpdir(), 'cnm-img-'));
    });
    after(async () => {
      await h?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('runs the saved image with the removed file absent, the kept one present and the config as defaults', async () => {
      const ctx = path.join(dir, 'ctx');
      const tag = `${h!.name}-layered:1`;
      await run('mkdir', ['-p', ctx]);
      writeFileSync(
        path.join(ctx, 'Dockerfile'),
        [
          `FROM ${h!.image}`,
          'RUN mkdir -p /srv/app && echo one > /srv/app/removed && echo two > /srv/app/kept',
          'RUN rm /srv/app/removed',
          'ENV GREETING=built-by-docker',
          'WORKDIR /srv/app',
          'CMD ["sh", "-c", "echo $GREETING; pwd; ls"]',
          '',
        ].join('\n'),
      );
      const build = await run('env', ['DOCKER_BUILDKIT=0', DOCKER_CLI, '-H', `unix://${h!.socket}`, 'build', '--network', 'none', '-t', tag, ctx], 240_000);
      assert.equal(build.code, 0, build.stderr);
      const archive = path.join(dir, 'image.tar');
      await h!.dockerOk(['save', '-o', archive, tag]);
      await h!.dockerOk(['rmi', tag]);
      const state = path.join(dir, 'state');
      const r = await run(process.execPath, [CNM, '--state-dir', state, '--no-firewall', 'run', '--rm', '--network', 'none', '--image', archive]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'built-by-docker\n/srv/app\nkept\n');
      const again = await run(process.execPath, [
        CNM,
        '--state-dir',
        state,
        '--no-firewall',
        'run',
        '--rm',
        '--network',
        'none',
        '--image',
        archive,
        '--',
        'cat',
        '/srv/app/removed',
      ]);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr + again.stdout, /No such file/);
    });
  });
}
