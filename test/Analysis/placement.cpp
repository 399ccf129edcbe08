// Placement: every call from an entry or CLEAVE_FUNCTION to an annotated
// function stays local or becomes a boundary, explained by -Rcleave.
// RUN: cleave build -Rcleave -q --no-build -o %t %s %S/Inputs/placement-helpers.cpp -- -std=c++17 2>&1 | FileCheck %s --implicit-check-not=remark:
// -Rcleave is cleave's own flag even among the compiler flags after --.
// RUN: cleave build -q --no-build -o %t %s %S/Inputs/placement-helpers.cpp -- -std=c++17 -Rcleave 2>&1 | FileCheck %s --implicit-check-not=remark: --implicit-check-not=warning:
// Without -Rcleave, nothing is said.
// RUN: cleave build -q --no-build -o %t %s %S/Inputs/placement-helpers.cpp -- -std=c++17 2>&1 | not grep remark:

#include <cleave/cleave.h>

#include <vector>

CLEAVE_FUNCTION("memory=2048") double quote(int qty) { return qty * 1.5; }
CLEAVE_FUNCTION() int tax(int n) { return n / 10; }
CLEAVE_FUNCTION("isolate") void audit(int) {}
CLEAVE_FUNCTION("timeout=5,gpu=1,concurrency=4") int infer(int n) { return n; }
CLEAVE_FUNCTION() int square(int n) { return n * n; }

// Local, inlined, and its own call is placed from the entry's unit.
CLEAVE_FUNCTION() int total(int n) { return n + (int)quote(n); }

int via_other_unit(int n); // Inputs/placement-helpers.cpp: calls quote()

CLEAVE_ENTRY("POST /order") double order(int qty) {
  double p = quote(qty);
  // CHECK: placement.cpp:[[@LINE-1]]:14: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  p += tax(qty);
  // CHECK: placement.cpp:[[@LINE-1]]:8: remark: 'tax' stays local in 'order': same resource profile [-Rcleave]
  audit(qty);
  // CHECK: placement.cpp:[[@LINE-1]]:3: remark: 'audit' runs as its own function: it is marked isolate [-Rcleave]
  p += infer(qty);
  // CHECK: placement.cpp:[[@LINE-1]]:8: remark: 'infer' runs as its own function: timeout 5 s vs 30 s, gpu 1 vs 0, concurrency 4 vs the runtime's default [-Rcleave]
  std::vector<int> xs = {1, 2, 3};
  std::vector<int> sq = cleave::parallel_map(xs, square);
  // CHECK: placement.cpp:[[@LINE-1]]:25: remark: 'square' fans out: one invocation per element, then a join that restores input order [-Rcleave]
  p += total(qty);
  // CHECK: placement.cpp:[[@LINE-1]]:8: remark: 'total' stays local in 'order': same resource profile [-Rcleave]
  // CHECK: placement.cpp:20:54: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB (reached from 'order' through 'total') [-Rcleave]
  p += via_other_unit(qty);
  // CHECK: placement-helpers.cpp:8:15: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB (reached from 'order' through 'via_other_unit') [-Rcleave]
  return p + sq.size();
}

// A CLEAVE_FUNCTION that runs as its own unit has its calls placed too,
// against its own profile: here the 2048 MiB quote calls a 256 MiB tax.
// Entries are placed first, then the units their boundaries reach.
CLEAVE_FUNCTION("memory=2048") int big(int n) { return tax(n); }
CLEAVE_ENTRY("GET /big") int call_big(int n) { return big(n); }
// CHECK: placement.cpp:[[@LINE-1]]:55: remark: 'big' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
// CHECK: placement.cpp:[[@LINE-3]]:56: remark: 'tax' runs as its own function: memory 256 MiB vs 2048 MiB [-Rcleave]

// Each function cut at its calls reports what its frames carry, after the
// placement remarks: exactly the values used after each call.
// CHECK: placement.cpp:20:54: remark: 1 value crosses the boundary at {{.*}}placement.cpp:20:54: n (int) [-Rcleave]
// CHECK: placement.cpp:25:14: remark: 1 value crosses the boundary at {{.*}}placement.cpp:25:14: qty (int) [-Rcleave]
// CHECK: placement.cpp:29:3: remark: 2 values cross the boundary at {{.*}}placement.cpp:29:3: qty (int), p (double) [-Rcleave]
// CHECK: placement.cpp:31:8: remark: 2 values cross the boundary at {{.*}}placement.cpp:31:8: qty (int), p (double) [-Rcleave]
// CHECK: placement.cpp:34:25: remark: 2 values cross the boundary at {{.*}}placement.cpp:34:25: qty (int), p (double) [-Rcleave]
// CHECK: placement.cpp:36:8: remark: 3 values cross the hop into 'total' at {{.*}}placement.cpp:36:8: qty (int), p (double), sq (std::vector<int>) [-Rcleave]
// CHECK: placement.cpp:39:8: remark: 2 values cross the hop into 'via_other_unit' at {{.*}}placement.cpp:39:8: p (double), sq (std::vector<int>) [-Rcleave]
// CHECK: placement.cpp:47:56: remark: no value crosses the boundary at {{.*}}placement.cpp:47:56 [-Rcleave]
// CHECK: placement.cpp:48:55: remark: no value crosses the boundary at {{.*}}placement.cpp:48:55 [-Rcleave]
// CHECK: placement-helpers.cpp:8:15: remark: no value crosses the boundary at {{.*}}placement-helpers.cpp:8:15 [-Rcleave]
