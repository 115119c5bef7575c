#!/usr/bin/env bash
# The unit tests under AddressSanitizer + UndefinedBehaviorSanitizer, then each libFuzzer target
# for a bounded time, from seed corpora made of real files; all in build-asan/ with clang.
# Prints the executions of every target and any crash (its input is kept under
# build-asan/fuzz-crashes/; rerun it with build-asan/bin/fuzz_NAME FILE).
# Usage: scripts/sanitize.sh [seconds per fuzz target (default 30)] [targets...]
# Longer runs: scripts/sanitize.sh 3600 safetensors
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(json config safetensors vocab wordpiece data tasks tf_checkpoint torch_pickle)
dir=${ELECTRA_SANITIZE_DIR:-build-asan}

missing=()
for p in clang libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

unit_tests="test_core test_text test_data test_task_readers test_squad test_metrics test_finetune test_pretraining"
fuzzers=""
for t in "${targets[@]}"; do fuzzers="$fuzzers fuzz_$t"; done
ELECTRA_BUILD_DIR=$dir ELECTRA_TARGETS="$unit_tests electra-prepare $fuzzers" \
  scripts/setup.sh -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DELECTRA_FUZZ=ON

# LibTorch is not built with the sanitizers: its one-time allocations are not leaks of ours, and
# its libraries define some symbols twice. SentencePiece loads through dlmopen, which ASan does
# not support: its tests run in the other builds.
export ASAN_OPTIONS=detect_leaks=0:detect_odr_violation=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
start=$(date +%s)
ctest --test-dir "$dir" -L unit -LE "dist|vocab" -j 2 --output-on-failure -E "SentencePiece|self_test"
echo "[sanitize] unit tests under ASan/UBSan took $(( $(date +%s) - start )) s"

# Seed corpora: the repository's own files, and ../shared/data's when it is there. (head closes
# its pipe early on purpose: no pipefail here.)
set +o pipefail
seeds=$dir/fuzz-seeds
rm -rf "$seeds"
mkdir -p "$seeds" "$dir/fuzz-crashes"
for t in "${targets[@]}"; do mkdir -p "$seeds/$t"; done
shared=${ELECTRA_DATA_DIR:-../shared/data}
n=0
seed() {  # seed TARGET [PREFIX_BYTE]: stdin becomes one seed file
  n=$((n + 1))
  if [ $# -gt 1 ]; then { printf "\\x$2"; head -c 60000; } > "$seeds/$1/s$n"; else head -c 60000 > "$seeds/$1/s$n"; fi
}
for f in configs/pretrain/*.json configs/finetune/*.json; do
  [ -d "$seeds/json" ] && seed json < "$f"
  [ -d "$seeds/config" ] && seed config < "$f"
done
hf='{"architectures": ["ElectraForPreTraining"], "embedding_size": 128, "hidden_size": 256, "num_hidden_layers": 12,
 "num_attention_heads": 4, "intermediate_size": 1024, "vocab_size": 30522, "max_position_embeddings": 512,
 "hidden_act": "gelu", "id2label": {"0": "a", "1": "b"}, "model_type": "electra"}'
[ -d "$seeds/config" ] && echo "$hf" | seed config
if [ -d "$seeds/safetensors" ]; then
  header='{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2,1],"data_offsets":[8,12]},"__metadata__":{"format":"pt"}}'
  { printf "\\x$(printf %02x ${#header})\\0\\0\\0\\0\\0\\0\\0%s" "$header"; head -c 12 /dev/urandom; } | seed safetensors
fi
if [ -d "$seeds/vocab" ]; then
  seed vocab < tests/fixtures/wordpiece_toy_vocab.txt
  [ -f "$shared/vocab/bert-base-uncased-vocab.txt" ] && head -n 3000 "$shared/vocab/bert-base-uncased-vocab.txt" | seed vocab
fi
if [ -d "$seeds/wordpiece" ]; then
  for f in corpus/gutenberg/*.txt.gz; do zcat "$f" | head -c 4000 | seed wordpiece; done
  seed wordpiece < README.md
fi
if [ -d "$seeds/data" ]; then
  tmp=$(mktemp -d)
  zcat corpus/gutenberg/*.txt.gz | head -c 200000 > "$tmp/corpus.txt"
  "$dir/bin/electra-prepare" --input "$tmp/corpus.txt" --vocab tests/fixtures/wordpiece_toy_vocab.txt --output "$tmp/data" \
    --max-seq-len 32 --quiet
  for f in "$tmp"/data/*.shard "$tmp"/data/*/*.shard; do [ -f "$f" ] && seed data 00 < "$f"; done
  seed data 01 < "$tmp/data/manifest.json"
  rm -rf "$tmp"
fi
if [ -d "$seeds/tasks" ]; then
  printf 'text\tpair\tlabel\nthe fox\ta dog\tyes\n"quoted"\tb\tno\n' | seed tasks 00
  printf 'text,pair,label\n"a, b",c,yes\n"say ""hi""",d,no\n' | seed tasks 01
  printf '{"text": "a fox", "pair": "b", "label": "yes"}\n{"text": "c", "label": 1}\n' | seed tasks 02
  [ -f "$shared/glue/MRPC/dev.tsv" ] && head -n 30 "$shared/glue/MRPC/dev.tsv" | seed tasks 03
  printf '{"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": "The fox is red.", "qas": [{"id": "q1", "question": "What is red?", "answers": [{"text": "fox", "answer_start": 4}]}]}]}]}' | seed tasks 04
  printf 'the DT B-NP\nfox NN I-NP\njumps VBZ B-VP\n\n-DOCSTART- -X- O\n' | seed tasks 05
fi

if [ -d "$seeds/tf_checkpoint" ]; then
  # The first byte picks the file the input replaces (fuzz/fuzz_tf_checkpoint.cpp): 00 the index,
  # 01 the data file, whole (a cut one only fails the size check).
  seed tf_checkpoint 00 < tests/fixtures/tf/electra_tiny/model.ckpt.index
  { printf '\x01'; cat tests/fixtures/tf/electra_tiny/model.ckpt.data-00000-of-00001; } > "$seeds/tf_checkpoint/data"
fi
if [ -d "$seeds/torch_pickle" ]; then
  for f in tests/fixtures/pickle/*.bin; do seed torch_pickle < "$f"; done
fi

set -o pipefail
# Inputs that once crashed a target stay in its corpus (fuzz/regressions/TARGET/).
for t in "${targets[@]}"; do
  [ -d "fuzz/regressions/$t" ] && cp fuzz/regressions/$t/* "$seeds/$t/"
done
export ELECTRA_LOG_LEVEL=off
summary=()
status=0
for t in "${targets[@]}"; do
  log=$dir/fuzz-$t.log
  set +e
  max_len=65536
  [ "$t" = wordpiece ] && max_len=4096  # text: long inputs only slow it down
  [ "$t" = tf_checkpoint ] && max_len=131072  # the fixture's data file (117 KB) plus its selector byte
  "$dir/bin/fuzz_$t" -max_total_time="$seconds" -max_len=$max_len -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$dir/fuzz-crashes/$t-" "$seeds/$t" > "$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  if [ $rc -eq 0 ]; then
    summary+=("fuzz_$t: ${runs} executions in ${seconds} s, no crash")
  else
    status=1
    summary+=("fuzz_$t: CRASH after ${runs:-?} executions (exit $rc); see $log and $dir/fuzz-crashes/")
    tail -n 40 "$log"
  fi
done
printf '[sanitize] %s\n' "${summary[@]}"
exit $status
