#!/usr/bin/env bash
# The e2e tier's second engine: a Debian 13 (trixie) root with its docker.io (dockerd 26.1, containerd, runc),
# made once with debootstrap and cached; a rerun only checks the cache. The host's own packages are not touched.
# The harness (test/helpers/docker-harness.ts) runs that dockerd pivot_root'ed into the root, in a mount and
# network namespace of its own (see ../shared/docs/dockerd-facts.md).
#
#   bash scripts/engine-26.sh [ROOT]    (default: $CNM_DOCKERD26_ROOT, else /var/cache/cnm/trixie-docker)
#
# Prints the root on success; exits non-zero (and the e2e tier then skips that engine, visibly) when it cannot
# be had, e.g. without a Debian mirror.
set -euo pipefail
root=${1:-${CNM_DOCKERD26_ROOT:-/var/cache/cnm/trixie-docker}}
mirror=${CNM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
stamp="$root/.cnm-engine-ready"
if [ -f "$stamp" ] && [ -x "$root/usr/sbin/dockerd" ]; then
  echo "$root"
  exit 0
fi
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2
partial="$root.partial"
rm -rf "$partial"
mkdir -p "$(dirname "$root")"
echo "engine-26: debootstrap trixie into $partial (about a minute)" >&2
debootstrap --variant=minbase trixie "$partial" "$mirror" >&2
# no service may start inside the root while packages install
printf '#!/bin/sh\nexit 101\n' >"$partial/usr/sbin/policy-rc.d"
chmod +x "$partial/usr/sbin/policy-rc.d"
echo "engine-26: apt-get install docker.io in the root" >&2
# /proc for the maintainer scripts, in a private mount namespace: nothing stays mounted on the host
unshare --mount --propagation private bash -c '
  mount -t proc proc "$1/proc"
  DEBIAN_FRONTEND=noninteractive chroot "$1" apt-get install -y -q --no-install-recommends docker.io
' engine-26 "$partial" >&2
chroot "$partial" apt-get clean >&2
"$partial/usr/sbin/dockerd" --version >&2
rm -rf "$root"
mv "$partial" "$root"
touch "$stamp"
echo "$root"
