// A unit that includes cleave.h under an older standard, or as C, gets one
// error, from the header, and nothing after it.
// RUN: not cleave build --no-build -o %t %s -- -std=c++11 2>&1 | FileCheck %s
// RUN: not cleave build --no-build -o %t %s -- -x c 2>&1 | FileCheck %s
// CHECK: cleave.h:{{[0-9]+}}:2: error: "Cleave needs C++17 or later: compile this unit with -std=c++17 (or a later standard)"
// CHECK-NOT: error:
// CHECK: 1 error generated.

#include <cleave/cleave.h>

CLEAVE_STATE() long hits = 0;

CLEAVE_ENTRY("GET /hit") long hit() { return ++hits; }
