#!/usr/bin/env bash
# Packs what libelectra needs besides LibTorch, CMake and a compiler into one folder, on a
# machine that has the Debian packages (scripts/setup.sh), for a machine that has none of them
# and no network (for example a GPU node with only the pip torch wheel). Then, there:
#   scripts/build_with_torch_wheel.sh DEPS_DIR [BUILD_DIR]
# Header-only libraries travel as headers; utf8proc (C) and SentencePiece (behind the C shim)
# as shared libraries, which depend only on libc/libstdc++.
# Usage: scripts/pack_build_deps.sh OUT_DIR   (then tar it up and copy it over)
set -euo pipefail
out=${1:?usage: scripts/pack_build_deps.sh OUT_DIR}
multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
libdir=/usr/lib/$multiarch
mkdir -p "$out/include" "$out/lib" "$out/share/cmake"
need() { [ -e "$1" ] || { echo "pack_build_deps: $1 is missing; run scripts/setup.sh first" >&2; exit 1; }; }
for d in nlohmann spdlog fmt CLI gloo; do need "/usr/include/$d"; cp -a "/usr/include/$d" "$out/include/"; done
for h in utf8proc.h sentencepiece_processor.h sentencepiece_trainer.h; do need "/usr/include/$h"; cp -a "/usr/include/$h" "$out/include/"; done
need /usr/share/cmake/nlohmann_json
cp -a /usr/share/cmake/nlohmann_json "$out/share/cmake/"
for d in /usr/share/cmake/CLI11 "$libdir/cmake/CLI11"; do [ -d "$d" ] && cp -a "$d" "$out/share/cmake/"; done
for l in libutf8proc libsentencepiece libsentencepiece_train; do
  need "$libdir/$l.so"
  cp -a "$libdir/$l".so* "$out/lib/"
done
cat > "$out/README" <<TXT
libelectra build dependencies packed $(date -u +%Y-%m-%d) on $(. /etc/os-release; echo "$PRETTY_NAME"):
headers of nlohmann_json, spdlog, fmt, CLI11, gloo, utf8proc, SentencePiece; shared libraries
of utf8proc and SentencePiece. Use: scripts/build_with_torch_wheel.sh $out
TXT
echo "packed into $out ($(du -sh "$out" | cut -f1)); copy it beside the repository on the target machine"
