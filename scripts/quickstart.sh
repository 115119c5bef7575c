#!/usr/bin/env bash
# The main job on a built-in default: installs what is needed, builds, takes the English corpus
# that ships with the repository (corpus/: seven public-domain novels), trains a WordPiece vocabulary,
# prepares pre-training data, pre-trains the tiny ELECTRA for a few minutes, exports it and
# runs electra-detect on the model card's sentence; the run's report.html shows its curves.
#
# Environment: ELECTRA_CORPUS=FILE|DIR   use your own corpus (one sentence per line, blank
#                                        line between documents) instead of the novels
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

# The default corpus ships with the repository (corpus/README.md: seven public-domain novels);
# it is read as prose (paragraphs, sentences split by electra-prepare).
corpus="${ELECTRA_CORPUS:-}"
corpus_flag=--input
if [ -z "$corpus" ]; then
  corpus="$work/corpus"
  corpus_flag=--prose-input
  mkdir -p "$corpus"
  for f in corpus/gutenberg/*.txt.gz; do
    out="$corpus/$(basename "$f" .gz)"
    [ -s "$out" ] || { gzip -dc "$f" > "$out.tmp" && mv "$out.tmp" "$out"; }
  done
  echo "[quickstart] corpus: $(ls "$corpus"/*.txt | wc -l) public-domain novels (corpus/README.md)"
fi

precision="${ELECTRA_PRECISION:-}"
if [ -z "$precision" ]; then
  precision=fp32
  grep -qE 'avx512_bf16|amx_bf16' /proc/cpuinfo && precision=bf16
fi

"$bin/electra-vocab" --input "$corpus" --output "$work/vocab.txt" --type wordpiece --vocab-size 8000 --overwrite
"$bin/electra-prepare" "$corpus_flag" "$corpus" --vocab "$work/vocab.txt" --output "$work/data" --overwrite
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
echo "[quickstart] report (curves, final numbers, config; open it in a browser): $work/run/report.html"
