#!/usr/bin/env bash
# e2e tier: cnm as a Docker plugin against its own private dockerd (see test/helpers/docker-harness.ts).
# Needs root. Installs docker.io and busybox-static when missing; never starts or touches the system dockerd.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then echo "e2e: needs root" >&2; exit 1; fi
if ! command -v dockerd >/dev/null || [ ! -x /bin/busybox ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >/dev/null
fi
npx tsc -p tsconfig.json >/dev/null || true   # emits even when unrelated files have type errors
npx mocha --timeout 600000 'dist/test/e2e/**/*.test.js' "$@"
