#!/usr/bin/env bash
# Installs what cnm needs on a fresh Debian machine (idempotent), then builds it.
#   scripts/setup.sh          runtime deps (iproute2 for users' `ip netns exec`, util-linux, graphviz for `cnm graph`)
#   scripts/setup.sh --test   plus what the test suites drive: docker.io, busybox-static, ..., and the second
#                             engine (dockerd 26.1 in a cached Debian 13 root, scripts/engine-26.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

want=(iproute2 util-linux nftables iptables conntrack gcc libc6-dev graphviz)
if [ "${1:-}" = "--test" ]; then
  want+=(docker.io docker-compose busybox-static iputils-ping etcd-server debootstrap iperf3)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's docker.io package starts the system dockerd; the tests start their own and never need that one.

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund >/dev/null
fi
echo "setup: building"
rm -rf dist
npx tsc -p tsconfig.json
# the CLI as one file (cnm's code and commander; the other packages stay in node_modules and load when a command
# needs them): a command then resolves a handful of files at start instead of ~130
npm run -s bundle
# cnm run's container init (namespaces, overlay rootfs, pivot_root, cgroups): a small C program
cc -O2 -Wall -o dist/cnm-init src/runner/native/cnm-init.c
chmod +x dist/cnm.js
if [ "${1:-}" = "--test" ]; then
  # made once (about a minute), then only checked; without it its e2e suites skip (a failure under CI=true)
  if root=$(bash scripts/engine-26.sh); then
    echo "setup: dockerd 26.1 in $root"
  else
    echo "setup: dockerd 26.1 could not be set up (see above): the e2e suites skip that engine" >&2
  fi
fi
