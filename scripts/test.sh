#!/usr/bin/env bash
# Sets up and runs every test tier: unit (no root), integration (root, real kernel), e2e (root, real dockerd).
# Ends with the line "N passed, N failed". Every service a tier starts is stopped by that tier.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

counts=$(mktemp)
export CNM_COUNT_FILE="$counts"
reporter=(--reporter ./test/helpers/count-reporter.js)
status=0

run_tier() {
  local name=$1; shift
  echo "=== $name ==="
  if ! npx mocha "${reporter[@]}" "$@"; then status=1; fi
}

run_tier unit 'dist/test/unit/**/*.test.js'
if [ "$(id -u)" = 0 ]; then
  shopt -s globstar nullglob
  it=(dist/test/integration/**/*.test.js)
  e2e=(dist/test/e2e/**/*.test.js)
  [ ${#it[@]} -gt 0 ] && run_tier integration --timeout 60000 --require dist/test/helpers/leak-hooks.js "${it[@]}"
  [ ${#e2e[@]} -gt 0 ] && run_tier e2e --timeout 180000 --require dist/test/helpers/leak-hooks.js "${e2e[@]}"
else
  echo "not root: integration and e2e tiers skipped"
fi

read -r passed failed < <(awk '{p+=$1; f+=$2} END {print p+0, f+0}' "$counts")
rm -f "$counts"
# A mocha run that crashed before reporting still fails the whole run.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
