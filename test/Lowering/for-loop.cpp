// A boundary in the body of a counted for loop. The frame carries the loop
// counter, the bound and the accumulator, which the next turn reads, but not
// a variable the rest of the body writes before reading it (`last`), nor one
// used only before the call (`scratch`, `bias`). The call is reached from the
// step before the loop and, on later turns, from the step after itself.
// The generated C++ must compile.
// RUN: rm -rf %t
// RUN: cleave build -Rcleave -q -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep -v cross %t.remarks | FileCheck %s --check-prefix=PLACE --implicit-check-not=remark:
// RUN: grep cross %t.remarks | FileCheck %s --check-prefix=CARRY --implicit-check-not=remark:
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/manifest.yaml
// RUN: test -f %t/build/libcleave_handlers.so

#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /sum") int sum(int n, int bias, int unused) {
  int acc = bias;
  int last = -1;
  int tmp = 0;
  for (int i = 0; i < n; ++i) {
    int before = i * 2;
    int scratch = i + 1;
    tmp = quote(scratch);
    // PLACE: for-loop.cpp:[[@LINE-1]]:11: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: for-loop.cpp:[[@LINE-2]]:11: remark: 4 values cross the boundary at {{.*}}for-loop.cpp:[[@LINE-2]]:11: n (int), acc (int), i (int), before (int) [-Rcleave]
    last = tmp;
    acc += tmp + before;
  }
  return acc + last;
}

// `continue` and `break` around the call; the call in the loop's init
// statement runs once, before the loop, and carries the bound only.
CLEAVE_ENTRY("POST /skip") int skip(int n, int k) {
  int found = -1;
  int seen = 0;
  for (int i = quote(k); i < n; ++i) {
    // PLACE: for-loop.cpp:[[@LINE-1]]:16: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: for-loop.cpp:[[@LINE-2]]:16: remark: 3 values cross the boundary at {{.*}}for-loop.cpp:[[@LINE-2]]:16: n (int), found (int), seen (int) [-Rcleave]
    if (i % 2 == 0)
      continue;
    int q = quote(i);
    // PLACE: for-loop.cpp:[[@LINE-1]]:13: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: for-loop.cpp:[[@LINE-2]]:13: remark: 4 values cross the boundary at {{.*}}for-loop.cpp:[[@LINE-2]]:13: n (int), found (int), seen (int), i (int) [-Rcleave]
    ++seen;
    if (q > 100) {
      found = i;
      break;
    }
  }
  return found * 1000 + seen;
}

// MANIFEST:      - name: sum
// MANIFEST:          machine: sum
// MANIFEST-NEXT:     steps:
// MANIFEST-NEXT:       - id: 0
// MANIFEST-NEXT:         source: {{.*}}for-loop.cpp:18:64
// MANIFEST-NEXT:       - id: 1
// MANIFEST-NEXT:         source: {{.*}}for-loop.cpp:25:11
// MANIFEST-NEXT:     edges:
// MANIFEST-NEXT:       - from: [0, 1]
// MANIFEST-NEXT:         callee: quote
// MANIFEST-NEXT:         placement: boundary
// MANIFEST-NEXT:         resume: 1
// MANIFEST-NEXT:         source: {{.*}}for-loop.cpp:25:11
// MANIFEST-NEXT:         carried:
// MANIFEST-NEXT:           - {name: "n", type: int, bytes: 4}
// MANIFEST-NEXT:           - {name: acc, type: int, bytes: 4}
// MANIFEST-NEXT:           - {name: i, type: int, bytes: 4}
// MANIFEST-NEXT:           - {name: before, type: int, bytes: 4}
// MANIFEST-NEXT:   - name: skip
// The call in the init runs once; the one in the body is reached from the
// init's step (first turn) and from its own (later turns).
// MANIFEST:          machine: skip
// MANIFEST-NEXT:     steps:
// MANIFEST-NEXT:       - id: 0
// MANIFEST-NEXT:         source: {{.*}}for-loop.cpp:36:51
// MANIFEST-NEXT:       - id: 1
// MANIFEST-NEXT:         source: {{.*}}for-loop.cpp:39:16
// MANIFEST-NEXT:       - id: 2
// MANIFEST-NEXT:         source: {{.*}}for-loop.cpp:44:13
// MANIFEST-NEXT:     edges:
// MANIFEST-NEXT:       - from: [0]
// MANIFEST:              resume: 1
// MANIFEST:            - from: [1, 2]
// MANIFEST-NEXT:         callee: quote
// MANIFEST-NEXT:         placement: boundary
// MANIFEST-NEXT:         resume: 2
