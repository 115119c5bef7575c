#!/usr/bin/env bash
# Set-up, build and every test, in both supported builds:
#   (a) build/         Debian's LibTorch 1.13, CPU only
#   (b) build-torch2/  LibTorch 2.11 from the pinned PyPI torch wheel (scripts/requirements.txt): the
#                      CUDA 13 build, every CUDA, NCCL, fp16 and SDPA line compiled; tests run on the CPU
#   (s) build-asan/    clang with AddressSanitizer and UndefinedBehaviorSanitizer: the unit tests, then
#                      each libFuzzer target for ELECTRA_FUZZ_SECONDS (default 30) (scripts/sanitize.sh)
# Both run the round trips with the real transformers (hf.transformers), from the virtual
# environment scripts/python_env.sh makes. Real data sets are used when ELECTRA_DATA_DIR points at
# them (defaults to ../shared/data beside the checkout when it exists).
# Usage: scripts/test.sh [ctest options, e.g. -L unit]
# Environment: ELECTRA_BUILDS="a b s" (default all three)
set -euo pipefail
cd "$(dirname "$0")/.."
# Test-only Debian packages scripts/setup.sh installs too: cli.report opens the run reports in chromium.
export ELECTRA_TEST_PACKAGES="chromium"
if [ -z "${ELECTRA_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
  export ELECTRA_DATA_DIR="$(cd ../shared/data && pwd)"
fi
echo "[test] ELECTRA_DATA_DIR=${ELECTRA_DATA_DIR:-<unset: tests on real data are skipped>}"
times=()
timed() {  # timed LABEL COMMAND...: runs it and records how long it took
  local label=$1 start=$(date +%s)
  shift
  "$@"
  times+=("$label $(( $(date +%s) - start )) s")
  echo "[test] $label took $(( $(date +%s) - start )) s"
}
# Configure sees ELECTRA_DATA_DIR too: some reference outputs are generated at build time.
setup_and_test() {  # setup_and_test a|b BUILD_DIR [cmake options...]
  local name=$1 dir=$2
  shift 2
  timed "build ($name)" env ELECTRA_BUILD_DIR="$dir" scripts/setup.sh -DELECTRA_HF_PYTHON="$python" "$@"
  timed "tests ($name)" ctest --test-dir "$dir" --output-on-failure -j 2 "${ctest_args[@]}"
}
ctest_args=("$@")
builds=${ELECTRA_BUILDS:-a b s}

start=$(date +%s)
python=$(scripts/python_env.sh)
times+=("python environment $(( $(date +%s) - start )) s")
case " $builds " in *" a "*) setup_and_test a build ;; esac
case " $builds " in *" b "*)
  torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  # The CUDA LibTorch's CMake config wants the GPU architectures when no GPU is there to ask;
  # libelectra compiles no kernels of its own, so this only quiets it (9.0: the H200s we run on).
  TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0} setup_and_test b build-torch2 -DCMAKE_PREFIX_PATH="$torch_prefix" ;;
esac
case " $builds " in *" s "*) timed "sanitizers and fuzzing (s)" scripts/sanitize.sh "${ELECTRA_FUZZ_SECONDS:-30}" ;; esac
printf '[test] %s\n' "${times[@]}"
