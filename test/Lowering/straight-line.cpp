// A function without branches is cut at every boundary call. Each frame
// carries exactly the variables read after the call: not those that are
// dead (never read again), nor those that are written before they are read.
// RUN: cleave build -Rcleave -q --no-build -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep -v cross %t.remarks | FileCheck %s --check-prefix=PLACE --implicit-check-not=remark:
// RUN: grep cross %t.remarks | FileCheck %s --check-prefix=CARRY --implicit-check-not=remark:
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/manifest.yaml

#include <cleave/cleave.h>

#include <string>

struct Order {
  std::string item;
  int qty = 0;
};

CLEAVE_FUNCTION("memory=2048") double quote(const Order &o) { return o.qty * 1.5; }
CLEAVE_FUNCTION("isolate") void audit(std::string what) { (void)what; }

CLEAVE_ENTRY("POST /price") double price(Order o, int extra, std::string note) {
  int dead = extra * 2;          // never read again
  int later = extra + 1;         // written after the call before it is read
  std::string label = note + "!";
  double p = quote(o);
  // PLACE: straight-line.cpp:[[@LINE-1]]:14: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: straight-line.cpp:[[@LINE-2]]:14: remark: 2 values cross the boundary at {{.*}}straight-line.cpp:[[@LINE-2]]:14: o (Order), label (std::string) [-Rcleave]
  later = 7;
  p += later + o.qty;
  audit(label);
  // PLACE: straight-line.cpp:[[@LINE-1]]:3: remark: 'audit' runs as its own function: it is marked isolate [-Rcleave]
  // CARRY: straight-line.cpp:[[@LINE-2]]:3: remark: 2 values cross the boundary at {{.*}}straight-line.cpp:[[@LINE-2]]:3: o (Order), p (double) [-Rcleave]
  double q = quote(o);
  // PLACE: straight-line.cpp:[[@LINE-1]]:14: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: straight-line.cpp:[[@LINE-2]]:14: remark: 1 value crosses the boundary at {{.*}}straight-line.cpp:[[@LINE-2]]:14: p (double) [-Rcleave]
  return p + q;
}

// A boundary as the last thing the function does carries nothing.
CLEAVE_ENTRY("POST /last") double last(Order o, int unused) {
  Order copy = o;
  copy.qty += 1;
  return quote(copy);
  // PLACE: straight-line.cpp:[[@LINE-1]]:10: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: straight-line.cpp:[[@LINE-2]]:10: remark: no value crosses the boundary at {{.*}}straight-line.cpp:[[@LINE-2]]:10 [-Rcleave]
}

// The steps of `price`: step 0 starts at the body, one step after each of
// the three calls, each reached from the step before it.
// MANIFEST:      - name: price
// MANIFEST:          machine: price
// MANIFEST-NEXT:     steps:
// MANIFEST-NEXT:       - id: 0
// MANIFEST-NEXT:         source: {{.*}}straight-line.cpp:21:80
// MANIFEST-NEXT:       - id: 1
// MANIFEST-NEXT:         source: {{.*}}straight-line.cpp:25:14
// MANIFEST-NEXT:       - id: 2
// MANIFEST-NEXT:         source: {{.*}}straight-line.cpp:30:3
// MANIFEST-NEXT:       - id: 3
// MANIFEST-NEXT:         source: {{.*}}straight-line.cpp:33:14
// MANIFEST-NEXT:     edges:
// MANIFEST-NEXT:       - from: [0]
// MANIFEST-NEXT:         callee: quote
// MANIFEST-NEXT:         placement: boundary
// MANIFEST-NEXT:         resume: 1
// MANIFEST-NEXT:         source: {{.*}}straight-line.cpp:25:14
// MANIFEST-NEXT:         carried:
// MANIFEST-NEXT:           - {name: o, type: Order, bytes: 28}
// MANIFEST-NEXT:           - {name: label, type: std::string, bytes: 24}
// MANIFEST-NEXT:       - from: [1]
// MANIFEST-NEXT:         callee: audit
// MANIFEST-NEXT:         placement: boundary
// MANIFEST-NEXT:         resume: 2
// MANIFEST-NEXT:         source: {{.*}}straight-line.cpp:30:3
// MANIFEST-NEXT:         carried:
// MANIFEST-NEXT:           - {name: o, type: Order, bytes: 28}
// MANIFEST-NEXT:           - {name: p, type: double, bytes: 8}
// MANIFEST-NEXT:       - from: [2]
// MANIFEST-NEXT:         callee: quote
// MANIFEST-NEXT:         placement: boundary
// MANIFEST-NEXT:         resume: 3
// MANIFEST-NEXT:         source: {{.*}}straight-line.cpp:33:14
// MANIFEST-NEXT:         carried:
// MANIFEST-NEXT:           - {name: p, type: double, bytes: 8}
// MANIFEST-NEXT:   - name: last
// The frame of `last` is empty, written as [].
// MANIFEST:          edges:
// MANIFEST-NEXT:       - from: [0]
// MANIFEST-NEXT:         callee: quote
// MANIFEST-NEXT:         placement: boundary
// MANIFEST-NEXT:         resume: 1
// MANIFEST-NEXT:         source: {{.*}}straight-line.cpp:43:10
// MANIFEST-NEXT:         carried: []
