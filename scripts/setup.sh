#!/usr/bin/env bash
# Installs the Debian packages libelectra needs (only those missing) and builds it into build/.
# Usage: scripts/setup.sh [extra cmake -D options...]
# Environment: ELECTRA_TARGETS="t1 t2 ..." builds only those targets (default: everything).
#              ELECTRA_TEST_PACKAGES="p1 p2 ..." more Debian packages to install (scripts/test.sh's).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build ccache pkg-config
  # Without OpenBLAS, LibTorch falls back to the reference BLAS (about 100x slower).
  libtorch-dev libgloo-dev libsentencepiece-dev sentencepiece
  nlohmann-json3-dev libcli11-dev libspdlog-dev libgtest-dev libutf8proc-dev
  libopenblas0-pthread python3 python3-torch
)
# Packages only the tests need, named by scripts/test.sh (chromium: the run reports in a browser).
packages+=(${ELECTRA_TEST_PACKAGES:-})
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Paths relative to the checkout, so ccache hits across clones of the repository.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
build_dir="${ELECTRA_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
start=$(date +%s)
targets=()
for t in ${ELECTRA_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
echo "[setup] build took $(( $(date +%s) - start )) s; binaries in $build_dir/bin/"
