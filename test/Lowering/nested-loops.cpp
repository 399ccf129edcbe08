// Boundaries in nested loops: the frame carries the counters and bounds of
// every loop around the call, and what the enclosing loops read after the
// inner one ends. The generated C++ must compile.
// RUN: rm -rf %t
// RUN: cleave build -Rcleave -q -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep -v cross %t.remarks | FileCheck %s --check-prefix=PLACE --implicit-check-not=remark:
// RUN: grep cross %t.remarks | FileCheck %s --check-prefix=CARRY --implicit-check-not=remark:
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/manifest.yaml
// RUN: test -f %t/build/libcleave_handlers.so

#include <cleave/cleave.h>

#include <vector>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /grid") std::vector<int> grid(int rows, int cols, int unused) {
  std::vector<int> sums;
  for (int r = 0; r < rows; ++r) {
    int row = 0;
    int width = cols;
    for (int c = 0; c < width; ++c) {
      int cell = r * c; // read by the call only
      int v = quote(cell);
      // PLACE: nested-loops.cpp:[[@LINE-1]]:15: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
      // CARRY: nested-loops.cpp:[[@LINE-2]]:15: remark: 7 values cross the boundary at {{.*}}nested-loops.cpp:[[@LINE-2]]:15: rows (int), cols (int), sums (std::vector<int>), r (int), row (int), width (int), c (int) [-Rcleave]
      row += v;
    }
    sums.push_back(row);
  }
  return sums;
}

// A while inside a for, with a break out of the inner loop, and a call in
// the outer body after the inner loop.
CLEAVE_ENTRY("POST /search") int search(int n, int goal) {
  int hits = 0;
  for (int i = 0; i < n; ++i) {
    int j = 0;
    int probe = 0;
    while (j < i) {
      probe = quote(j);
      // PLACE: nested-loops.cpp:[[@LINE-1]]:15: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
      // CARRY: nested-loops.cpp:[[@LINE-2]]:15: remark: 5 values cross the boundary at {{.*}}nested-loops.cpp:[[@LINE-2]]:15: n (int), goal (int), hits (int), i (int), j (int) [-Rcleave]
      if (probe == goal)
        break;
      ++j;
    }
    hits += quote(j) == goal;
    // PLACE: nested-loops.cpp:[[@LINE-1]]:13: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: nested-loops.cpp:[[@LINE-2]]:13: remark: 4 values cross the boundary at {{.*}}nested-loops.cpp:[[@LINE-2]]:13: n (int), goal (int), hits (int), i (int) [-Rcleave]
  }
  return hits;
}

// The inner call is reached from the step before the loops, from its own
// resume (next column) and, through the outer loop, from itself again; the
// call after the inner loop of `search` also from its own resume.
// MANIFEST:      - name: grid
// MANIFEST:          edges:
// MANIFEST-NEXT:       - from: [0, 1]
// MANIFEST:        - name: search
// MANIFEST:          edges:
// MANIFEST-NEXT:       - from: [0, 1, 2]
// MANIFEST-NEXT:         callee: quote
// MANIFEST-NEXT:         placement: boundary
// MANIFEST-NEXT:         resume: 1
// MANIFEST:            - from: [0, 1, 2]
// MANIFEST-NEXT:         callee: quote
// MANIFEST-NEXT:         placement: boundary
// MANIFEST-NEXT:         resume: 2
