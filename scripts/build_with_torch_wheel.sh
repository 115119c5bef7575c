#!/usr/bin/env bash
# Builds libelectra and its tools against the LibTorch inside a pip torch wheel (CUDA or not),
# on a machine without Debian's dev packages or a network: only python3 with torch, CMake >= 3.18
# and a C++17 compiler, plus a folder made by scripts/pack_build_deps.sh on a machine that has
# the packages. Tests are not built (GoogleTest is not packed); run them where scripts/test.sh works.
# Usage: scripts/build_with_torch_wheel.sh DEPS_DIR [BUILD_DIR=build-wheel]
#   TORCH_CMAKE_PREFIX=...  use this LibTorch instead of the wheel's (any LibTorch 1.13 / 2.x)
#   PYTHON=python3          the interpreter whose torch to use
set -euo pipefail
cd "$(dirname "$0")/.."
deps=$(cd "${1:?usage: scripts/build_with_torch_wheel.sh DEPS_DIR [BUILD_DIR]}" && pwd)
build=${2:-build-wheel}
python=${PYTHON:-python3}
prefix=${TORCH_CMAKE_PREFIX:-}
if [ -z "$prefix" ]; then
  prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)') ||
    { echo "build_with_torch_wheel: $python cannot import torch; set PYTHON or TORCH_CMAKE_PREFIX" >&2; exit 1; }
  "$python" -c 'import torch; print("torch %s, CUDA %s" % (torch.__version__, torch.version.cuda or "none"))'
fi
[ -f "$deps/include/spdlog/spdlog.h" ] || { echo "build_with_torch_wheel: $deps is not a folder made by scripts/pack_build_deps.sh" >&2; exit 1; }
command -v cmake >/dev/null || { echo "build_with_torch_wheel: cmake is needed" >&2; exit 1; }
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# CUDA LibTorch's CMake config looks for the CUDA toolkit (nvcc) to set its flags; a wheel
# user may have only the driver. libelectra compiles no CUDA code itself.
# Without a GPU to ask, a CUDA LibTorch's CMake config wants the architectures named; libelectra
# compiles no kernels, so any value does (9.0: Hopper).
[ -n "${TORCH_CUDA_ARCH_LIST:-}" ] || "$python" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())' 2>/dev/null ||
  export TORCH_CUDA_ARCH_LIST=9.0
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix;$deps" -DELECTRA_DEPS_DIR="$deps" -DELECTRA_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_RPATH="$deps/lib"
cmake --build "$build" --parallel "$(nproc)"
echo "built: $build/bin (electra-pretrain, electra-finetune, ...). On a GPU: --device cuda, --precision bf16|fp16,"
echo "several GPUs: torchrun --no-python --nproc-per-node N $build/bin/electra-pretrain ..."
