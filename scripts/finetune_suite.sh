#!/usr/bin/env bash
# Fine-tunes one or more models on the real tasks of ../shared/data (bounded CPU budgets) and
# prints one line per (model, task) with the dev scores: the measurements behind the README's
# fine-tuning table.
#
# Usage: scripts/finetune_suite.sh OUT_DIR NAME=MODEL_DIR [NAME=MODEL_DIR ...]
#   NAME=random:MODEL_DIR fine-tunes the same architecture from random weights.
# Environment: ELECTRA_DATA_DIR (default ../shared/data), TASKS (default: all of
#   "mrpc cola rte stsb sst2 chunking squad1"), EXTRA (extra --set arguments for every run),
#   SEEDS (for example "42 7 13": every run once per seed, then the mean of each score per model
#   and task; default: the config's seed, once).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/bin"
data="${ELECTRA_DATA_DIR:-$root/../shared/data}"
out="$1"
shift
mkdir -p "$out"
tasks="${TASKS:-mrpc cola rte stsb sst2 chunking squad1}"
lr="optimizer.learning_rate=3e-4"  # the paper's rate for small models

run() {  # name model task config data_dir extra...
  local name="$1" model="$2" task="$3" config="$4" dir="$5"
  shift 5
  local extra=() run_name="$name-$task" label="$name $task"
  if [[ "$model" == random:* ]]; then model="${model#random:}"; extra+=(--set train.random_init=true); fi
  if [ -n "$seed" ]; then extra+=(--set "train.seed=$seed"); run_name+="-seed$seed"; label+=" seed=$seed"; fi
  local log="$out/$run_name.log"
  "$bin/electra-finetune" --config "$root/configs/finetune/$config.json" --model "$model" --data "$dir" \
    --output "$out/$run_name" --overwrite --set "$lr" "${extra[@]}" "$@" ${EXTRA:-} > "$log" 2>&1 || { echo "$label FAILED (see $log)"; return; }
  echo "$label $(grep -o 'dev (epoch.*' "$log")" | tee -a "$out/scores.txt"
}

suite() {  # NAME=MODEL_DIR ...: every task for every model, with $seed
  for spec in "$@"; do
    name="${spec%%=*}"
    model="${spec#*=}"
    for task in $tasks; do
      case "$task" in
        mrpc) run "$name" "$model" mrpc mrpc "$data/glue/MRPC" ;;
        cola) run "$name" "$model" cola cola "$data/glue/CoLA" ;;
        rte) run "$name" "$model" rte rte "$data/glue/RTE" --set train.epochs=3 ;;
        stsb) run "$name" "$model" stsb stsb "$data/glue/STS-B" --set train.epochs=3 ;;
        sst2) run "$name" "$model" sst2 sst2 "$data/glue/SST-2" --set train.max_train_examples=10000 --set train.epochs=2 ;;
        chunking) run "$name" "$model" chunking chunking "$data/conll2000" ;;
        squad1) run "$name" "$model" squad1 squad1 "$data/squad/v1.1" --set task.train_file=dev-v1.1.json \
                  --set task.train_articles=24 --set train.max_seq_length="${SQUAD_SEQ:-128}" --set squad.doc_stride=64 \
                  --set squad.max_query_length=32 --set train.epochs=2 ;;
        *) echo "unknown task $task" >&2; exit 2 ;;
      esac
    done
  done
}

rm -f "$out/scores.txt"
read -r -a seeds <<< "${SEEDS:-}"
[ ${#seeds[@]} -eq 0 ] && seeds=("")  # once, with the config's seed
for seed in "${seeds[@]}"; do suite "$@"; done

# Mean of every score per model and task (over the seeds).
awk '{
  key = $1 " " $2; sub(/^.*\): /, "")
  n = split($0, parts, ", ")
  for (i = 1; i <= n; i++) { split(parts[i], kv, " "); sum[key, kv[1]] += kv[2]; cnt[key, kv[1]]++; if (!((key, kv[1]) in seen)) { seen[key, kv[1]] = 1; names[key] = names[key] " " kv[1] } }
  if (!(key in order)) { order[key] = ++keys; byindex[keys] = key }
} END {
  if (keys == 0) exit
  print "\nmean over seeds:"
  for (k = 1; k <= keys; k++) {
    key = byindex[k]; line = key ":"; m = split(names[key], ms, " ")
    for (j = 1; j <= m; j++) line = line sprintf(" %s %.2f", ms[j], sum[key, ms[j]] / cnt[key, ms[j]])
    print line " (" cnt[key, ms[1]] " run(s))"
  }
}' "$out/scores.txt"
