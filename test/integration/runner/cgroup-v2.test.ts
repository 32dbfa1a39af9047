/**
 * The runner's cgroup v2 code on a real cgroup2 hierarchy. This machine mounts v1 hierarchies, so cnm runs in a
 * private mount namespace (unshare --mount) where cgroup2 is mounted over /sys/fs/cgroup: cnm then detects v2 and
 * uses the unified tree. The controllers bound to v1 (memory, cpu, pids) are not available in v2 here, so limits are
 * checked for the clear refusal when missing, or for their files when this kernel offers them. The cgroup2 tree is
 * the host's one (there is only one): the test removes the cnm/ dir it made there.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CNM, runnerFixture } from './harness';

const exec = promisify(execFile);

// $1 state dir, $2 layer, $3 cnm.js, $4 name prefix; every step prints one tagged line
const SCRIPT = `
set -u
mount --make-rprivate /
mount -t cgroup2 none /sys/fs/cgroup
pre=no; [ -d /sys/fs/cgroup/cnm ] && pre=yes
S=$1 L=$2 C=$3 P=$4
c() { node "$C" --state-dir "$S" --no-firewall "$@"; }
echo "controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "self: $(c run --rm --network none --name \${P}a --layer "$L" -- cat /proc/self/cgroup | grep '^0::')"
c run -d --network none --name \${P}b --layer "$L" -- sh -c 'sleep 600 & sleep 600' >/dev/null
sleep 0.3
echo "procs: $(wc -l < /sys/fs/cgroup/cnm/\${P}b/cgroup.procs)"
c stop -t 1 \${P}b >/dev/null
[ -d /sys/fs/cgroup/cnm/\${P}b ] && echo "after stop: present" || echo "after stop: gone"
c rm \${P}b >/dev/null
out=$(c run -d --network none --name \${P}m --memory 64m --layer "$L" -- sleep 60 2>&1); rc=$?
[ $rc = 0 ] && out=$(cat /sys/fs/cgroup/cnm/\${P}m/memory.max)
echo "memory: $rc $out"
c rm -f \${P}m >/dev/null 2>&1
[ "$pre" = no ] && rmdir /sys/fs/cgroup/cnm 2>/dev/null
echo "left: $(ls /sys/fs/cgroup/cnm 2>/dev/null | grep -c "^\${P}")"
`;

describe('cnm run on cgroup v2 (a real cgroup2 hierarchy in a private mount namespace)', function () {
  const t = runnerFixture(this);

  it('puts the command in cnm/NAME of the unified tree, kills every process there on stop, removes it, and refuses a limit whose controller v2 lacks', async () => {
    const { stdout } = await exec('unshare', ['--mount', 'bash', '-c', SCRIPT, 'cgroup-v2', t.env.stateDir, t.layer.dir, CNM, t.p], { timeout: 60_000 });
    const line = (tag: string): string =>
      stdout
        .split('\n')
        .find((l) => l.startsWith(`${tag}: `))
        ?.slice(tag.length + 2) ?? '';
    assert.equal(line('self'), `0::/cnm/${t.p}a`, stdout);
    assert.ok(Number(line('procs')) >= 2, `the command and its child are in the cgroup: ${stdout}`);
    assert.equal(line('after stop'), 'gone');
    const controllers = line('controllers').split(' ');
    if (controllers.includes('memory')) assert.equal(line('memory'), `0 ${64 * 1024 * 1024}`, 'memory.max of its cgroup');
    else assert.match(line('memory'), /^\d+ cnm: --memory needs the cgroup memory controller, which cgroup v2 at \/sys\/fs\/cgroup does not offer/);
    assert.equal(line('left'), '0');
  });
});
