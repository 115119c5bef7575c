#!/usr/bin/env bash
# Pre-training throughput against the stack users run: electra-pretrain against the real
# transformers ELECTRA (scripts/hf_pretrain_bench.py) on the same PyTorch as our build, eager and
# under torch.compile; same machine, threads, batch and sequence length, in one run. Each figure is
# the median tokens/s of several timed windows after warm-up; peak resident memory per process.
# Also measures this CPU's fp32 GEMM peak and the share of it electra-pretrain's fp32 runs reach
# (model FLOPs per token as scripts/pretrain_flops.py counts them).
#
# Usage: scripts/benchmark_pretrain.sh [OUT_DIR=bench-pretrain]   (writes OUT/table.md)
# Environment:
#   MODES    default "small:fp32:32 small:bf16:32 base:bf16:8" (size:precision:batch, sequences of 128)
#   THREADS  default: all cores, the same on every side
#   COMPILE  1 (default): also transformers under torch.compile; 0: eager only
#   WINDOWS  timed windows per figure (default 3) of STEPS steps each (default 4), after 3 warm-up steps
#   BUILD    default build-torch2 (LibTorch 2.11, the torch transformers runs on here)
#   ELECTRA_DATA_DIR  default ../shared/data (its Brown corpus is prepared once under OUT)
# Time budget on 2 cores: about 4 minutes for small fp32, 5 for small bf16 (compilation is most of
# it), 15 for base bf16 at batch 8.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-bench-pretrain}" && cd "${1:-bench-pretrain}" && pwd)"
bin="$root/${BUILD:-build-torch2}/bin"
data_root="${ELECTRA_DATA_DIR:-$root/../shared/data}"
threads="${THREADS:-$(nproc)}"
windows="${WINDOWS:-3}"
steps="${STEPS:-4}"
read -r -a modes <<< "${MODES:-small:fp32:32 small:bf16:32 base:bf16:8}"
python=$("$root/scripts/python_env.sh")
[ -x "$bin/electra-pretrain" ] || { echo "benchmark_pretrain: $bin/electra-pretrain is missing: build it first" \
  "(ELECTRA_BUILDS=b scripts/test.sh makes build-torch2)" >&2; exit 1; }
data="$out/brown-128"
if [ ! -f "$data/manifest.json" ]; then
  "$bin/electra-prepare" --input "$data_root/corpus/brown/brown.txt" --vocab "$data_root/vocab/bert-base-uncased-vocab.txt" \
    --output "$data" --max-seq-len 128 --quiet
fi
results="$out/results.jsonl"
: > "$results"

gemm=$("$python" - "$threads" <<'PY'
import statistics, sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
n = 1024
a, b = torch.randn(n, n), torch.randn(n, n)
for _ in range(3): a @ b
rates = []
for _ in range(7):
    start = time.perf_counter()
    for _ in range(5): a @ b
    rates.append(5 * 2 * n ** 3 / (time.perf_counter() - start))
print(statistics.median(rates))
PY
)
echo "fp32 GEMM peak (1024^3, $threads threads): $(awk -v g="$gemm" 'BEGIN{printf "%.1f", g/1e9}') GFLOP/s"

for mode in "${modes[@]}"; do
  IFS=: read -r size precision batch <<< "$mode"
  run="$out/ours-$size-$precision"
  rm -rf "$run"
  # Windows of $steps steps (log_every); the first window holds the warm-up and is not counted.
  /usr/bin/time -f '%M' -o "$run.rss" "$bin/electra-pretrain" --config "$root/configs/pretrain/$size.json" --data "$data" \
    --output "$run" --steps $(( (windows + 1) * steps )) --threads "$threads" --precision "$precision" \
    --set train.batch_size="$batch" --set train.log_every="$steps" --set train.eval_every=100000 \
    --set train.save_every=100000 > "$run.log" 2>&1 || { echo "electra-pretrain failed: $run.log" >&2; exit 1; }
  "$python" - "$root/scripts" "$run" "$size" "$precision" "$batch" "$gemm" >> "$results" <<'PY'
import json, os, statistics, sys
sys.path.insert(0, sys.argv[1])
from pretrain_flops import flops_per_token
run, size, precision, batch, gemm = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
rows = [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl")) if '"train"' in l][1:]
per_token = flops_per_token(run)
tokens = statistics.median(r["tokens_per_second"] for r in rows)
print(json.dumps({"size": size, "precision": precision, "batch": batch, "side": "electra-pretrain",
                  "tokens_per_second": tokens, "windows": [r["tokens_per_second"] for r in rows],
                  "peak_rss_mb": int(open(run + ".rss").read().split()[-1]) / 1024,
                  "flops_per_token": per_token, "gemm_peak_share": tokens * per_token / gemm}))
PY
  sides=(eager)
  [ "${COMPILE:-1}" = 1 ] && sides+=(compile)
  for side in "${sides[@]}"; do
    flags=()
    [ "$precision" = bf16 ] && flags+=(--bf16)
    [ "$side" = compile ] && flags+=(--compile)
    line=$("$python" "$root/scripts/hf_pretrain_bench.py" --discriminator "$run/discriminator" --generator "$run/generator" \
      --batch "$batch" --threads "$threads" --windows "$windows" --steps-per-window "$steps" "${flags[@]}" \
      2> "$out/hf-$size-$precision-$side.log") || { echo "transformers $side failed: $out/hf-$size-$precision-$side.log" >&2; exit 1; }
    echo "$line" | "$python" -c "import json,sys; r=json.load(sys.stdin); r.update(size='$size', precision='$precision'); print(json.dumps(r))" >> "$results"
  done
  tail -n $(( ${#sides[@]} + 1 )) "$results" | "$python" -c "
import json, sys
for r in map(json.loads, sys.stdin):
    print(f\"  {r['size']} {r['precision']} batch {r['batch']}: {r['side']:32s} {r['tokens_per_second']:8.0f} tok/s, peak {r['peak_rss_mb']:6.0f} MB\")"
done

"$python" - "$results" "$out/table.md" "$gemm" "$threads" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
gemm, threads = float(sys.argv[3]), sys.argv[4]
lines = [f"fp32 GEMM peak {gemm / 1e9:.1f} GFLOP/s ({threads} threads); ratios are ours / theirs, same run.", "",
         "| model | electra-pretrain tok/s (peak MB) | transformers eager | torch.compile | vs eager | vs compile | memory vs eager |",
         "|---|---|---|---|---|---|---|"]
for key in dict.fromkeys((r["size"], r["precision"], r["batch"]) for r in rows if r["side"] == "electra-pretrain"):
    get = lambda side: next((r for r in rows if (r["size"], r["precision"], r["batch"]) == key and r["side"].startswith(side)), None)
    ours, eager, comp = get("electra-pretrain"), get("transformers eager"), get("transformers + torch.compile")
    cell = lambda r: f"{r['tokens_per_second']:.0f} ({r['peak_rss_mb']:.0f})" if r else "-"
    ratio = lambda r: f"{ours['tokens_per_second'] / r['tokens_per_second']:.2f}x" if r else "-"
    mem = f"{ours['peak_rss_mb'] / eager['peak_rss_mb']:.2f}x" if eager else "-"
    share = f", {100 * ours['gemm_peak_share']:.0f}% of GEMM peak" if key[1] == "fp32" else ""
    lines.append(f"| {key[0]} {key[1]}, {key[2]} x 128{share} | {cell(ours)} | {cell(eager)} | {cell(comp)} | "
                 f"{ratio(eager)} | {ratio(comp)} | {mem} |")
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
