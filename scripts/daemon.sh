#!/usr/bin/env bash
# Sets up cnm on a fresh Debian machine and runs the daemon that serves Docker (network + IPAM plugin)
# on the embedded store. Extra arguments go to `cnm daemon` (e.g. --socket, --state-dir).
set -euo pipefail
# root is needed (apt-get, network namespaces, the kernel): root runs this as it is, a sudo user through sudo
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "$0: run this as root (no sudo here)" >&2; exit 1; }
  exec sudo --preserve-env=CI,CNM_STATE_DIR,CNM_STORE bash "$0" "$@"
fi
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/cnm.js daemon "$@"
