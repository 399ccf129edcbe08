#!/usr/bin/env bash
# Builds and runs every benchmark under bench/ (the list CMake writes to
# BUILD_DIR/bench/benchmarks.txt). Extra arguments go to each benchmark, e.g.
#   scripts/bench.sh build --benchmark_repetitions=5
# The benchmarks print figures; nothing here fails on timing.
set -euo pipefail
BUILD_DIR=${1:-build}
shift || true
LIST="$BUILD_DIR/bench/benchmarks.txt"

if [ ! -f "$LIST" ]; then
  echo "bench: no benchmarks configured in $BUILD_DIR;" \
    "Google Benchmark was not found (install libbenchmark-dev:" \
    "scripts/install-deps.sh) and reconfigure" >&2
  exit 1
fi
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
case "$BUILD_TYPE" in
  Release|RelWithDebInfo|MinSizeRel) ;;
  *) echo "bench: warning: '$BUILD_TYPE' build: the figures are not representative" >&2 ;;
esac

cmake --build "$BUILD_DIR" --target cleave-benchmarks

while IFS= read -r Bench; do
  [ -n "$Bench" ] || continue
  echo "== $(basename "$Bench")"
  "$Bench" "$@"
done < "$LIST"
