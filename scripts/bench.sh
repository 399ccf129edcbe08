#!/usr/bin/env bash
# Builds and runs every benchmark: the Google Benchmark executables under
# bench/ (the list CMake writes to BUILD_DIR/bench/benchmarks.txt), then
# cleave-run's throughput against a hand-written server
# (bench/http/httpbench.py), then the compiler's own (bench/compiler/compilerbench.py: cleave build on a program
# of 100 units against clang -fsyntax-only, and on growing statements), then
# edit to deploy (bench/compiler/deploybench.py: a fresh cleave build, a
# rebuild through cleave_add_deployment after a one-line change, and a program
# of 50 units, each against the monolith's own compile).
# Extra arguments go to each Google Benchmark executable, e.g.
#   scripts/bench.sh build --benchmark_repetitions=5
# The benchmarks print figures; nothing here fails on timing.
set -euo pipefail
BUILD_DIR=${1:-build}
shift || true
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIST="$BUILD_DIR/bench/benchmarks.txt"

BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
case "$BUILD_TYPE" in
  Release|RelWithDebInfo|MinSizeRel) ;;
  *) echo "bench: warning: '$BUILD_TYPE' build: the figures are not representative" >&2 ;;
esac

status=0
if [ -f "$LIST" ]; then
  cmake --build "$BUILD_DIR" --target cleave-benchmarks
  while IFS= read -r Bench; do
    [ -n "$Bench" ] || continue
    echo "== $(basename "$Bench")"
    "$Bench" "$@"
  done < "$LIST"
else
  echo "bench: no runtime benchmarks configured in $BUILD_DIR;" \
    "Google Benchmark was not found (install libbenchmark-dev:" \
    "scripts/install-deps.sh) and reconfigure" >&2
  status=1
fi

echo "== HTTP (bench/http/httpbench.py)"
cmake --build "$BUILD_DIR" --target cleave-benchmarks cleave cleave-run
python3 "$ROOT/bench/http/httpbench.py" --build "$BUILD_DIR" || status=1

echo "== compiler (bench/compiler/compilerbench.py)"
WORK="$BUILD_DIR/bench/compiler"
rm -rf "$WORK"
python3 "$ROOT/bench/compiler/compilerbench.py" \
  --cleave "$BUILD_DIR/bin/cleave" --work "$WORK"

echo "== edit-to-deploy (bench/compiler/deploybench.py)"
WORK="$BUILD_DIR/bench/deploy"
rm -rf "$WORK"
python3 "$ROOT/bench/compiler/deploybench.py" \
  --build "$BUILD_DIR" --work "$WORK" || status=1
exit $status
