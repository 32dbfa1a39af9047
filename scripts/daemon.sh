#!/usr/bin/env bash
# Sets up cnm on a fresh Debian machine and runs the daemon that serves Docker (network + IPAM plugin)
# on the embedded store. Extra arguments go to `cnm daemon` (e.g. --socket, --state-dir).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/src/cli/main.js daemon "$@"
