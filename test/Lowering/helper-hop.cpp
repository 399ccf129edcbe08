// A plain helper between the entry and the CLEAVE_FUNCTION: the helper's
// call is the boundary, so the helper runs as steps, and the entry stops at
// its call of the helper too (a local hop: the helper's steps run in the
// same process, and the entry resumes with its value). Each frame carries
// what its own function reads after the call.
// RUN: cleave build -Rcleave -q --no-build -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep -v cross %t.remarks | FileCheck %s --check-prefix=PLACE --implicit-check-not=remark:
// RUN: grep cross %t.remarks | FileCheck %s --check-prefix=CARRY --implicit-check-not=remark:
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/manifest.yaml

#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

int helper(int x, int k) {
  int w = k + 1;
  int dead = x * 2;
  int q = quote(x);
  // PLACE: helper-hop.cpp:[[@LINE-1]]:11: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB (reached from 'run' through 'helper') [-Rcleave]
  // CARRY: helper-hop.cpp:[[@LINE-2]]:11: remark: 1 value crosses the boundary at {{.*}}helper-hop.cpp:[[@LINE-2]]:11: w (int) [-Rcleave]
  return q + w;
}

// A helper that does not stop is not a hop: it runs inside the entry's
// step, after the resume, so its argument travels rather than its value.
int plain(int x) { return x + 1; }

CLEAVE_ENTRY("POST /run") int run(int x, int k, int m) {
  int dead = m;
  int v = helper(x, k);
  // CARRY: helper-hop.cpp:[[@LINE-1]]:11: remark: 2 values cross the hop into 'helper' at {{.*}}helper-hop.cpp:[[@LINE-1]]:11: x (int), k (int) [-Rcleave]
  int u = plain(v) + helper(k, x);
  // CARRY: helper-hop.cpp:[[@LINE-1]]:22: remark: 1 value crosses the hop into 'helper' at {{.*}}helper-hop.cpp:[[@LINE-1]]:22: v (int) [-Rcleave]
  return u;
}

// The entry's steps: two local edges into the helper's machine.
// MANIFEST:      - name: run
// MANIFEST-NEXT:     kind: entry
// MANIFEST:          calls:
// MANIFEST-NEXT:       - {callee: quote, placement: boundary, reason: memory 2048 MiB vs 256 MiB, source: {{.*}}helper-hop.cpp:18:11}
// MANIFEST-NEXT:     machine: run
// MANIFEST-NEXT:     steps:
// MANIFEST-NEXT:       - id: 0
// MANIFEST-NEXT:         source: {{.*}}helper-hop.cpp:28:56
// MANIFEST-NEXT:       - id: 1
// MANIFEST-NEXT:         source: {{.*}}helper-hop.cpp:30:11
// MANIFEST-NEXT:       - id: 2
// MANIFEST-NEXT:         source: {{.*}}helper-hop.cpp:32:22
// MANIFEST-NEXT:     edges:
// MANIFEST-NEXT:       - from: [0]
// MANIFEST-NEXT:         callee: helper
// MANIFEST-NEXT:         placement: local
// MANIFEST-NEXT:         resume: 1
// MANIFEST-NEXT:         source: {{.*}}helper-hop.cpp:30:11
// MANIFEST-NEXT:         carried:
// MANIFEST-NEXT:           - {name: x, type: int, bytes: 4}
// MANIFEST-NEXT:           - {name: k, type: int, bytes: 4}
// MANIFEST-NEXT:       - from: [1]
// MANIFEST-NEXT:         callee: helper
// MANIFEST-NEXT:         placement: local
// MANIFEST-NEXT:         resume: 2
// MANIFEST-NEXT:         source: {{.*}}helper-hop.cpp:32:22
// MANIFEST-NEXT:         carried:
// MANIFEST-NEXT:           - {name: v, type: int, bytes: 4}
// The helper is listed as a function of kind helper, with its own steps;
// `plain` is not listed at all.
// MANIFEST-NEXT:   - name: helper
// MANIFEST-NEXT:     kind: helper
// MANIFEST-NEXT:     resources: {memoryMiB: 256, timeoutSeconds: 30, gpus: 0, concurrency: 0}
// MANIFEST-NEXT:     isolate: false
// MANIFEST-NEXT:     source: {{.*}}helper-hop.cpp:15:5
// MANIFEST-NEXT:     machine: helper
// MANIFEST-NEXT:     steps:
// MANIFEST-NEXT:       - id: 0
// MANIFEST-NEXT:         source: {{.*}}helper-hop.cpp:15:26
// MANIFEST-NEXT:       - id: 1
// MANIFEST-NEXT:         source: {{.*}}helper-hop.cpp:18:11
// MANIFEST-NEXT:     edges:
// MANIFEST-NEXT:       - from: [0]
// MANIFEST-NEXT:         callee: quote
// MANIFEST-NEXT:         placement: boundary
// MANIFEST-NEXT:         resume: 1
// MANIFEST-NEXT:         source: {{.*}}helper-hop.cpp:18:11
// MANIFEST-NEXT:         carried:
// MANIFEST-NEXT:           - {name: w, type: int, bytes: 4}
// MANIFEST-NEXT: state: []
