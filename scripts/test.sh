#!/usr/bin/env bash
# Set-up, build and every test. Real data sets are used when ELECTRA_DATA_DIR points at
# them (defaults to ../shared/data beside the checkout when it exists).
# Usage: scripts/test.sh [ctest options, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ELECTRA_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
  export ELECTRA_DATA_DIR="$(cd ../shared/data && pwd)"
fi
# Configure sees ELECTRA_DATA_DIR too: some reference outputs are generated at build time.
scripts/setup.sh
echo "[test] ELECTRA_DATA_DIR=${ELECTRA_DATA_DIR:-<unset: tests on real data are skipped>}"
start=$(date +%s)
ctest --test-dir "${ELECTRA_BUILD_DIR:-build}" --output-on-failure -j 2 "$@"
echo "[test] tests took $(( $(date +%s) - start )) s"
