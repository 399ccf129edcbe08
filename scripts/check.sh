#!/usr/bin/env bash
# Runs every test: lit (compiler, end-to-end) and the GoogleTest binaries,
# then prints one summary line: "check: N passed, N failed"; then a brief run
# of the runtime's fuzz targets (scripts/fuzz.sh --brief, about 20 s), built
# with clang and the sanitizers in build-fuzz.
set -uo pipefail
BUILD_DIR=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LIT=/usr/lib/llvm-19/build/utils/lit/lit.py
RESULTS="$BUILD_DIR/test-results.xml"

cmake --build "$BUILD_DIR" --target cleave cleave-run CleaveRuntimeTests \
  CleaveCompilerTests CleaveCodecTests || exit 1
"$ROOT/scripts/fuzz.sh" --build-only || exit 1
# The fuzz targets' copy of Line's codecs must be what the compiler writes.
if ! "$ROOT/fuzz/gen-codecs.sh" "$BUILD_DIR/bin/cleave" |
  cmp -s - "$ROOT/fuzz/LineCodecs.inc"; then
  echo "check: fuzz/LineCodecs.inc is stale: run" \
    "fuzz/gen-codecs.sh $BUILD_DIR/bin/cleave > fuzz/LineCodecs.inc"
  exit 1
fi

rm -f "$RESULTS"
python3 "$LIT" -sv --xunit-xml-output="$RESULTS" \
  "$BUILD_DIR/test" "$BUILD_DIR/unittests"
status=$?

python3 - "$RESULTS" "$status" <<'PY'
import sys
import xml.etree.ElementTree as ET

path, status = sys.argv[1], int(sys.argv[2])
try:
    root = ET.parse(path).getroot()
except (OSError, ET.ParseError) as e:
    print(f"check: no test results ({e})")
    sys.exit(1)
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
total = failed = skipped = 0
for s in suites:
    total += int(s.get("tests", 0))
    failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
    skipped += int(s.get("skipped", 0))
passed = total - failed - skipped
print(f"check: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or status or total == 0 else 0)
PY
status=$?

"$ROOT/scripts/fuzz.sh" --brief --no-build || status=1
exit $status
