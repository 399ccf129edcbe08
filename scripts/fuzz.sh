#!/usr/bin/env bash
# Builds the runtime's libFuzzer targets in their own build directory and
# runs each on its corpus. Usage:
#   scripts/fuzz.sh [--brief] [--no-build | --build-only] [SECONDS]
# SECONDS (default 60) is per target. --brief is the run `make check` does:
# a fixed seed, every regression input once, then 4 s per target on a
# scratch copy of the corpus. The targets run as many at a time as there
# are cores. One line per target:
#   fuzz: frame-decode: 123456 runs in 60 s (2057/s), no crash
# Exits 1 if any target crashed or broke an invariant; the input that did it
# is kept in the crash folder the script prints.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ_DIR=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
TARGETS=(frame-decode json-codec text-params manifest http-request request-parts)
MAX_LEN=4096
BRIEF=0
BUILD=1
SECONDS_EACH=60
for arg in "$@"; do
  case $arg in
  --brief) BRIEF=1 SECONDS_EACH=4 ;;
  --no-build) BUILD=0 ;;
  --build-only) BUILD=only ;;
  *) SECONDS_EACH=$arg ;;
  esac
done

if [ "$BUILD" != 0 ]; then
  if [ ! -f "$FUZZ_DIR/build.ninja" ]; then
    cmake -S "$ROOT" -B "$FUZZ_DIR" -G Ninja -DCLEAVE_FUZZ=ON \
      -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 >/dev/null ||
      exit 1
  fi
  cmake --build "$FUZZ_DIR" || exit 1
  [ "$BUILD" = only ] && exit 0
fi

if [ "$BRIEF" = 1 ]; then
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  CRASHES="$FUZZ_DIR/crashes/check"
  SEED=(-seed=1)
else
  WORK="$FUZZ_DIR/corpus" # grows from run to run
  CRASHES="$FUZZ_DIR/crashes/$(date +%Y%m%d-%H%M%S)"
  SEED=()
fi
mkdir -p "$CRASHES"

# One target: its line of output in $CRASHES/$t.result, exit 1 if it
# failed. The targets run as many at a time as the machine has cores, and
# their lines are printed in the order of TARGETS.
run_target() {
  local t=$1
  local bin="$FUZZ_DIR/bin/fuzz-$t"
  local log="$CRASHES/$t.log"
  local result="$CRASHES/$t.result"
  # Regression inputs first: each runs once and must pass.
  local regressions=("$ROOT/fuzz/regressions/$t"/*)
  if [ -e "${regressions[0]}" ]; then
    if ! "$bin" -runs=1 "${regressions[@]}" >"$log" 2>&1; then
      echo "fuzz: $t: a regression input fails again (see $log)" >"$result"
      return 1
    fi
  fi
  mkdir -p "$WORK/$t"
  "$bin" "${SEED[@]}" -max_total_time="$SECONDS_EACH" -max_len=$MAX_LEN \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$CRASHES/$t-" "$WORK/$t" "$ROOT/fuzz/corpus/$t" \
    >"$log" 2>&1
  local rc=$?
  local runs secs rate
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  runs=${runs:-0}
  secs=${secs:-$SECONDS_EACH}
  rate=$((runs / (secs > 0 ? secs : 1)))
  if [ $rc -eq 0 ]; then
    echo "fuzz: $t: $runs runs in $secs s ($rate/s), no crash" >"$result"
    rm -f "$log"
    return 0
  fi
  {
    echo "fuzz: $t: CRASH after $runs runs (exit $rc); input and log in $CRASHES/ ($t-*, $t.log)"
    grep -m1 -E 'ERROR: |invariant broken|runtime error' "$log" | sed 's/^/fuzz:   /'
  } >"$result"
  return 1
}

JOBS=$(nproc 2>/dev/null || echo 1)
pids=()
for t in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
    wait -n
  done
  run_target "$t" &
  pids+=($!)
done
failed=0
for i in "${!TARGETS[@]}"; do
  wait "${pids[$i]}" || failed=1
  t=${TARGETS[$i]}
  cat "$CRASHES/$t.result"
  rm -f "$CRASHES/$t.result"
done
rmdir "$CRASHES" 2>/dev/null || true
exit $failed
