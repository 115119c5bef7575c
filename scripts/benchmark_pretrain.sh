#!/usr/bin/env bash
# Pre-training throughput: electra-pretrain against the eager PyTorch baseline
# (scripts/bench_pretrain_torch.py), same machine, same threads, same run.
# Usage: scripts/benchmark_pretrain.sh [size=small] [batch=32] [steps=12] [threads=2]
# Needs a prepared data folder with the BERT vocabulary (ELECTRA_BENCH_DATA, default
# build/bench-data, prepared from ../shared/data/corpus/brown when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-small}
batch=${2:-32}
steps=${3:-12}
threads=${4:-2}
data=${ELECTRA_BENCH_DATA:-build/bench-data}
shared=${ELECTRA_DATA_DIR:-../shared/data}
if [ ! -f "$data/manifest.json" ]; then
  build/bin/electra-prepare --input "$shared/corpus/brown/brown.txt" --vocab "$shared/vocab/bert-base-uncased-vocab.txt" \
    --output "$data" --quiet
fi

ours() {  # precision -> tokens/s over the steps after the first two
  local out
  out=$(mktemp -d)
  build/bin/electra-pretrain --config "configs/pretrain/$size.json" --data "$data" --output "$out" --steps $((steps + 2)) \
    --threads "$threads" --precision "$1" --set train.batch_size="$batch" --set train.log_every=1 \
    --set train.eval_every=100000 --set train.save_every=100000 >/dev/null 2>&1
  /usr/bin/python3 - "$out/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l][2:]
print(sum(r["tokens_per_second"] for r in rows) / len(rows))
PY
  rm -rf "$out"
}
baseline() {  # extra flags -> tokens/s (environment from $baseline_env)
  env ${baseline_env:-} /usr/bin/python3 scripts/bench_pretrain_torch.py --size "$size" --batch "$batch" --steps "$steps" --threads "$threads" "$@" |
    /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["tokens_per_second"])'
}

echo "size $size, batch $batch x 128, $steps steps, $threads threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
ratio() { /usr/bin/python3 -c "print(f'{$1 / $2:.2f}')"; }
# electra-pretrain fixes OpenBLAS's kernel choice and thread waits itself (tune_cpu_runtime);
# the baseline runs once as a user would run it and once with the same environment.
tuned="OMP_WAIT_POLICY=PASSIVE MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824"
grep -q avx512f /proc/cpuinfo && tuned="$tuned OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}"
b32=$(baseline); t32=$(baseline_env=$tuned baseline); o32=$(ours fp32)
printf 'fp32: PyTorch eager %8.0f tok/s (same CPU settings: %6.0f)   electra-pretrain %8.0f tok/s   ratio %sx (%sx)\n' \
  "$b32" "$t32" "$o32" "$(ratio "$o32" "$b32")" "$(ratio "$o32" "$t32")"
b16=$(baseline --bf16); o16=$(ours bf16)
printf 'bf16: PyTorch eager %8.0f tok/s   electra-pretrain %8.0f tok/s   ratio %sx\n' "$b16" "$o16" "$(ratio "$o16" "$b16")"
printf 'electra-pretrain bf16 vs PyTorch eager fp32: %sx\n' "$(ratio "$o16" "$b32")"
