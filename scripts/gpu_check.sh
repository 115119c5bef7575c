#!/usr/bin/env bash
# The GPU run kit: builds libelectra against python3's torch (scripts/build_with_torch_wheel.sh)
# from the repository and a folder packed by scripts/pack_gpu_kit.sh (no registry needed), then
# checks the CUDA paths and prints one summary table:
#   parity      discriminator and generator logits on CUDA against the CPU (fp32, <= 1e-4)
#   fp32/bf16/fp16  pre-training steps on CUDA: finite losses; fp16 with its dynamic loss scale
#   small/base  pre-training throughput at batch 128 x 128 in bf16: sequences/s and model FLOPs
#               utilisation (against the measured bf16 matrix-product peak and the data-sheet one)
#   resume      a CUDA checkpoint resumed on the CPU, and that one back on CUDA
#   all-reduce  a one-process NCCL group
#   mrpc        one epoch of MRPC fine-tuning
# Without a GPU every check that can runs on the CPU (the fallbacks: fp16 must be refused there),
# the others say "skipped (no GPU)". Budget: about 8 minutes on one H200, build included.
# Usage: scripts/gpu_check.sh KIT_DIR [WORK_DIR=build-gpu]   (PYTHON: the interpreter with torch)
set -uo pipefail
cd "$(dirname "$0")/.."
kit=$(cd "${1:?usage: scripts/gpu_check.sh KIT_DIR [WORK_DIR]}" && pwd)
work=${2:-build-gpu}
python=${PYTHON:-python3}
mkdir -p "$work/logs"
work=$(cd "$work" && pwd)
bin=$work/build/bin
summary=()
row() { summary+=("$(printf '| %-11s | %-7s | %s |' "$1" "$2" "$3")"); echo "[gpu_check] $1: $2 $3"; }
# step NAME TIMEOUT_S COMMAND...: runs it with its output in logs/NAME.log; 0 when it succeeded.
step() {
  local name=$1 limit=$2
  shift 2
  timeout "$limit" "$@" >"$work/logs/$name.log" 2>&1
}
last_error() { grep -h -E 'error|Error|FAIL' "$work/logs/$1.log" | tail -1 | cut -c1-150; }
metric() {  # metric RUN_DIR KEY [SPLIT]: the values of KEY in metrics.jsonl, one per line
  "$python" -c 'import json,sys; [print(r[sys.argv[2]]) for r in map(json.loads, open(sys.argv[1]+"/metrics.jsonl")) if r.get("split", "train") == (sys.argv[3] if len(sys.argv) > 3 else "train") and sys.argv[2] in r]' "$@"
}

start=$(date +%s)
if step build 420 scripts/build_with_torch_wheel.sh "$kit/deps" "$work/build"; then
  row build ok "$(grep -m1 '^torch ' "$work/logs/build.log") in $(( $(date +%s) - start )) s"
else
  row build FAILED "$(last_error build) (logs/build.log)"
  printf '%s\n' "${summary[@]}"
  exit 1
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}

gpu=$("$python" -c 'import torch; print(int(torch.cuda.is_available()))' 2>/dev/null || echo 0)
device=cpu
if [ "$gpu" = 1 ]; then
  device=cuda
  "$python" -c 'import torch; p = torch.cuda.get_device_properties(0); print(f"{p.name}, {p.total_memory / 2**30:.0f} GiB")' >"$work/logs/gpu.log" 2>&1
  row device cuda "$(cat "$work/logs/gpu.log")"
else
  row device cpu "no CUDA GPU visible: CPU fallbacks only"
fi

# Data: the repository's novels, a WordPiece vocabulary of them, 128-token examples.
mkdir -p "$work/corpus"
for f in corpus/gutenberg/*.txt.gz; do gzip -dc "$f" >"$work/corpus/$(basename "$f" .gz)"; done
if step data 300 bash -c "'$bin/electra-vocab' --input '$work/corpus' --output '$work/vocab.txt' --type wordpiece \
      --vocab-size 8000 --overwrite --quiet && '$bin/electra-prepare' --prose-input '$work/corpus' \
      --vocab '$work/vocab.txt' --output '$work/data' --max-seq-len 128 --overwrite --quiet"; then
  row data ok "$(ls "$work/data" | wc -l) files from $(ls "$work/corpus" | wc -l) novels"
else
  row data FAILED "$(last_error data)"
fi

pretrain() {  # pretrain NAME CONFIG OUT ARGS... (--overwrite, which --resume overrides)
  local name=$1 config=$2 out=$3
  shift 3
  step "$name" 300 "$bin/electra-pretrain" --config "configs/pretrain/$config.json" --data "$work/data" \
    --output "$out" --overwrite --set train.log_every=5 --set train.eval_every=1000 --set train.save_every=1000 "$@"
}
finite_losses() { metric "$1" loss | "$python" -c 'import math,sys; v=[float(x) for x in sys.stdin]; print(len(v), "losses, last %.3f" % v[-1] if v else "") if v and all(map(math.isfinite, v)) else sys.exit(1)'; }

# Pre-training steps in each precision (tiny model, 40 steps).
for precision in fp32 bf16 fp16; do
  out=$work/runs/$precision
  if [ "$device" = cpu ] && [ "$precision" = fp16 ]; then
    if pretrain fp16 tiny "$out" --device cpu --precision fp16 --steps 5; then
      row fp16 FAILED "the CPU accepted fp16"
    else
      row fp16 ok "refused on the CPU: $(last_error fp16 | sed 's/.*error: //' | cut -c1-90)"
    fi
    continue
  fi
  if pretrain "$precision" tiny "$out" --device "$device" --precision "$precision" --steps 40 && detail=$(finite_losses "$out"); then
    [ "$precision" = fp16 ] && detail="$detail; loss scale $(metric "$out" loss_scale | tail -1)"
    row "$precision" ok "$device: $detail"
  else
    row "$precision" FAILED "$(last_error "$precision")"
  fi
done

# The exported fp32 models on the GPU against the CPU.
if [ "$device" = cuda ]; then
  if step parity 120 "$bin/electra-gpu-check" parity --model "$work/runs/fp32/discriminator" --model "$work/runs/fp32/generator"; then
    row parity ok "$(grep -o 'max |diff| [0-9.e+-]*' "$work/logs/parity.log" | tr '\n' ' ')"
  else
    row parity FAILED "$(tail -2 "$work/logs/parity.log" | tr '\n' ' ')"
  fi
else
  row parity skipped "no GPU"
fi

# Throughput of small and base at batch 128 x 128, bf16: the median of the windows after warm-up.
if [ "$device" = cuda ]; then
  peak=$("$python" - <<'PY' 2>"$work/logs/peak.log"
import torch
a, b = (torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16) for _ in range(2))
for _ in range(3): a @ b
torch.cuda.synchronize()
start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
start.record()
for _ in range(20): a @ b
end.record(); torch.cuda.synchronize()
print(f"{20 * 2 * 8192**3 / (start.elapsed_time(end) / 1e3):.4g}")
PY
)
  for size in small base; do
    out=$work/runs/$size
    if pretrain "$size" "$size" "$out" --device cuda --precision bf16 --steps 60 --set train.batch_size=128 \
        --set optimizer.warmup_steps=10; then
      row "$size" ok "$("$python" scripts/pretrain_flops.py "$out" --peak "$peak")"
    else
      row "$size" FAILED "$(last_error "$size")"
    fi
  done
else
  row small skipped "no GPU (CPU throughput: scripts/benchmark_pretrain.sh)"
  row base skipped "no GPU"
fi

# A checkpoint written on the device resumed on the CPU, and that one resumed back on the device.
out=$work/runs/resume
if pretrain resume-1 tiny "$out" --device "$device" --steps 20 --set train.save_every=10 &&
   pretrain resume-2 tiny "$out" --resume --device cpu --steps 30 --set train.save_every=10 &&
   pretrain resume-3 tiny "$out" --resume --device "$device" --steps 40 --set train.save_every=10; then
  steps=$(metric "$out" step | tr '\n' ' ')
  if [ "$(metric "$out" step | tail -1)" = 40 ] && finite_losses "$out" >/dev/null; then
    row resume ok "$device -> cpu -> $device, steps logged: $steps"
  else
    row resume FAILED "steps logged: $steps"
  fi
else
  row resume FAILED "$(last_error resume-3; last_error resume-2; last_error resume-1)"
fi

if step all-reduce 120 "$bin/electra-gpu-check" all-reduce --device "$device"; then
  row all-reduce ok "$(tail -1 "$work/logs/all-reduce.log")"
else
  row all-reduce FAILED "$(tail -1 "$work/logs/all-reduce.log")"
fi

# One epoch of MRPC from the bf16 pre-training run's discriminator (on the CPU, 400 examples).
limit=()
[ "$device" = cpu ] && limit=(--set train.max_train_examples=400)
mrpc_start=$(date +%s)
if step mrpc 300 "$bin/electra-finetune" --config configs/finetune/mrpc.json --model "$work/runs/bf16/discriminator" \
     --data "$kit/data/MRPC" --output "$work/runs/mrpc" --overwrite --epochs 1 --device "$device" --precision bf16 "${limit[@]}"; then
  row mrpc ok "$device, 1 epoch in $(( $(date +%s) - mrpc_start )) s: $(grep -o 'dev (epoch [^)]*): .*' "$work/logs/mrpc.log" | tail -1 | cut -c1-80)"
else
  row mrpc FAILED "$(last_error mrpc)"
fi

echo
echo "| check       | result  | detail |"
echo "|-------------|---------|--------|"
printf '%s\n' "${summary[@]}"
echo "($(( $(date +%s) - start )) s in all; logs in $work/logs)"
printf '%s\n' "${summary[@]}" | grep -q '| FAILED ' && exit 1
exit 0
