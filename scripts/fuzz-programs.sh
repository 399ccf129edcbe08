#!/usr/bin/env bash
# make fuzz-programs SECONDS=N: checks freshly generated programs (random
# seeds, every feature of test/gen/cleavegen.py unless GEN_ARGS says
# otherwise) as monoliths against their deployments until N seconds are up.
# Every failing program is kept in the directory printed at the end; see
# docs/testing.md for reducing one and keeping it as a test.
#
# Usage: scripts/fuzz-programs.sh BUILD_DIR SECONDS [harness options...]
set -uo pipefail
BUILD_DIR=${1:-build}
DURATION=${2:-60}
shift 2 || shift $#
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "$BUILD_DIR" && pwd) || exit 1

cmake --build "$BUILD_DIR" --target cleave cleave-run || exit 1

WORK="$BUILD_DIR/fuzz-programs/$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$WORK"
echo "fuzz-programs: ${DURATION} s of random programs; failures go to $WORK/failures"
PATH="$BUILD_DIR/bin:$PATH" python3 "$ROOT/test/gen/harness.py" \
  --seconds "$DURATION" --work "$WORK/work" --keep "$WORK/failures" \
  --include "$ROOT/runtime/include" "$@"
status=$?
rm -rf "$WORK/work"
if [ -d "$WORK/failures" ]; then
  echo "fuzz-programs: failing programs kept in $WORK/failures"
fi
exit $status
