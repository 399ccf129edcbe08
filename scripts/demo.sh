#!/usr/bin/env bash
# The main job on the default example: compile examples/hello with cleave,
# serve it with cleave-run, call it with curl, print the answer, stop.
set -euo pipefail
BUILD_DIR=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/$BUILD_DIR/bin"
OUT="$ROOT/$BUILD_DIR/demo/hello"

echo "==> cleave build examples/hello/hello.cpp"
rm -rf "$OUT"
"$BIN/cleave" build -o "$OUT" "$ROOT/examples/hello/hello.cpp" -- -std=c++17
echo
"$BIN/cleave" inspect "$OUT"
echo

LOG=$(mktemp)
"$BIN/cleave-run" "$OUT" --port 0 >"$LOG" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -f "$LOG"' EXIT

URL=""
for _ in $(seq 1 100); do
  URL=$(sed -n 's/^cleave-run: serving .* on \(http:[^ ]*\)$/\1/p' "$LOG")
  [ -n "$URL" ] && break
  if ! kill -0 "$PID" 2>/dev/null; then
    cat "$LOG" >&2
    echo "demo: cleave-run exited early" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$URL" ] || { cat "$LOG" >&2; echo "demo: cleave-run did not start" >&2; exit 1; }
echo "==> $(head -n1 "$LOG")"

echo "==> curl '$URL/hello?name=world'"
ANSWER=$(curl -sS --fail-with-body "$URL/hello?name=world")
echo "$ANSWER"

kill -TERM "$PID"
wait "$PID"
echo "==> cleave-run stopped"
