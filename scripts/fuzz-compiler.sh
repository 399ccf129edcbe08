#!/usr/bin/env bash
# make fuzz-compiler SECONDS=N: checks the compiler's contract (exit 0 with
# code that compiles, or 1 with a located error; no crash, no hang) on
# fresh hostile inputs from random seeds until N seconds are up
# (test/robust/contract.py). Every failing input is kept in the directory
# printed at the end; see docs/testing.md for turning one into a test.
#
# Usage: scripts/fuzz-compiler.sh BUILD_DIR SECONDS [contract.py options...]
set -uo pipefail
BUILD_DIR=${1:-build}
DURATION=${2:-60}
shift 2 || shift $#
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "$BUILD_DIR" && pwd) || exit 1

cmake --build "$BUILD_DIR" --target cleave || exit 1

WORK="$BUILD_DIR/fuzz-compiler/$(date -u +%Y%m%d-%H%M%S)"
SEED="r$(date +%s)-$$"
mkdir -p "$WORK"
echo "fuzz-compiler: ${DURATION} s of hostile inputs from seed $SEED; failures go to $WORK/failures"
python3 "$ROOT/test/robust/contract.py" --cleave "$BUILD_DIR/bin/cleave" \
  --seconds "$DURATION" --seed "$SEED" --work "$WORK/work" --keep "$WORK/failures" "$@"
status=$?
rm -rf "$WORK/work"
if [ -d "$WORK/failures" ]; then
  echo "fuzz-compiler: failing inputs kept in $WORK/failures"
fi
exit $status
