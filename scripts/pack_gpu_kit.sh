#!/usr/bin/env bash
# Packs what scripts/gpu_check.sh needs besides the repository into one folder, on a machine with
# the Debian packages (scripts/setup.sh) and the shared data: the build dependencies
# (scripts/pack_build_deps.sh) and GLUE MRPC. Copy the repository and that folder to a GPU machine
# that has python3 with a CUDA torch, CMake and a compiler (no registry needed), then there:
#   scripts/gpu_check.sh KIT_DIR
# Usage: scripts/pack_gpu_kit.sh [KIT_DIR=gpu-kit]   (ELECTRA_DATA_DIR: where glue/MRPC is; default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
kit=${1:-gpu-kit}
data=${ELECTRA_DATA_DIR:-../shared/data}
[ -f "$data/glue/MRPC/train.tsv" ] || { echo "pack_gpu_kit: $data/glue/MRPC/train.tsv is missing; set ELECTRA_DATA_DIR" >&2; exit 1; }
rm -rf "$kit"
scripts/pack_build_deps.sh "$kit/deps" >/dev/null
mkdir -p "$kit/data/MRPC"
cp "$data/glue/MRPC/"{train,dev}.tsv "$kit/data/MRPC/"
size_kb=$(( $(du -sk "$kit" | cut -f1) + $(git ls-files -z | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1) ))
echo "packed $kit ($(du -sh "$kit" | cut -f1)); with the repository's tracked files ${size_kb} KiB (the device limit is 65536 KiB)"
