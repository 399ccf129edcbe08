// Two entries on one route, here across two translation units, are an error
// at the second with a note at the first.
// RUN: not cleave build --no-build -o %t %s %S/Inputs/duplicate-route-other.cpp -- -std=c++17 2>&1 | FileCheck %s

#include <cleave/cleave.h>

CLEAVE_ENTRY("POST /orders") int place(int n) { return n; }

CLEAVE_ENTRY("GET /orders") int list() { return 0; } // same path, other method: fine

// CHECK: duplicate-route-other.cpp:5:14: error: route 'POST /orders' is already served by entry 'place'
// CHECK: duplicate-route.cpp:7:14: note: first served here
// CHECK-NOT: error:
