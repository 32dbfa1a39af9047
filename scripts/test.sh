#!/usr/bin/env bash
# Sets up and runs every test tier: lint, unit (fakes), integration (real kernel), e2e (real dockerd).
# Ends with the line "N passed, N failed, N skipped". Every service a tier starts is stopped by that tier.
# Runs as root (through sudo for a sudo user). Under CI=true a root tier that skips a test fails the run: a suite
# that skipped itself proves nothing.
set -uo pipefail
# root is needed (apt-get, network namespaces, the kernel): root runs this as it is, a sudo user through sudo
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "$0: run this as root (no sudo here)" >&2; exit 1; }
  exec sudo --preserve-env=CI,CNM_STATE_DIR,CNM_STORE bash "$0" "$@"
fi
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || { echo "setup failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

counts=$(mktemp)
export CNM_COUNT_FILE="$counts"
reporter=(--reporter ./test/helpers/count-reporter.js)
status=0
ci=${CI:-}

# one line "passed failed skipped" per mocha run; a tier that must not skip fails on its skipped count
run_tier() {
  local name=$1 strict=$2
  shift 2
  echo "=== $name ==="
  local before
  before=$(wc -l <"$counts")
  if ! npx mocha "${reporter[@]}" "$@"; then status=1; fi
  if [ "$(wc -l <"$counts")" -eq "$before" ]; then
    echo "$name: mocha ended without reporting"
    echo "0 1 0" >>"$counts"
  fi
  local skipped
  skipped=$(tail -n 1 "$counts" | awk '{print $3}')
  if [ "$strict" = strict ] && [ "$ci" = true ] && [ "${skipped:-0}" -gt 0 ]; then
    echo "$name: $skipped test(s) skipped themselves (marked '-' above); under CI every root test must run"
    echo "0 1 0" >>"$counts"
    status=1
  fi
}

echo "=== lint ==="
if npm run -s lint; then echo "1 0 0" >>"$counts"; else echo "0 1 0" >>"$counts"; status=1; fi

run_tier unit lenient 'dist/test/unit/**/*.test.js'
shopt -s globstar nullglob
it=(dist/test/integration/**/*.test.js)
e2e=(dist/test/e2e/**/*.test.js)
[ ${#it[@]} -gt 0 ] && run_tier integration strict --timeout 60000 --require dist/test/helpers/leak-hooks.js "${it[@]}"
[ ${#e2e[@]} -gt 0 ] && run_tier e2e strict --timeout 180000 --require dist/test/helpers/leak-hooks.js "${e2e[@]}"

read -r passed failed skipped < <(awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}' "$counts")
rm -f "$counts"
# A mocha run that crashed before reporting still fails the whole run.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
