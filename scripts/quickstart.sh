#!/usr/bin/env bash
# The main job on a built-in default. Until pre-training lands this builds the toolkit,
# writes a small random Hugging Face-format discriminator and runs electra-detect on it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
out=build/quickstart
/usr/bin/python3 scripts/make_parity_fixtures.py --out "$out" >/dev/null
build/bin/electra-detect --model "$out/proj/discriminator" --text "The quick brown fox fake over the lazy dog"
