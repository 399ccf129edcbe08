// A function with external linkage that two units define breaks the one
// definition rule: the program would not link, and the plan would have two
// bodies to pick from. An error at the second, with a note at the first.
// Functions of a unit's own (static, in an unnamed namespace) and inline
// functions, which each unit may define, are fine.
// RUN: not cleave build --no-build -o %t %s %S/Inputs/defined-twice-other.cpp -- -std=c++17 2>&1 | FileCheck %s

#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=512") long price(long qty) { return qty * 3; }

long total(long qty) { return price(qty) * 2; }

static long local_twice(long x) { return x * 2; }
inline long shared_inline(long x) { return x + 1; }
namespace {
long hidden(long x) { return x - 1; }
} // namespace

CLEAVE_ENTRY("POST /order") long order(long qty) {
  return total(qty) + local_twice(qty) + shared_inline(qty) + hidden(qty);
}

// CHECK: defined-twice-other.cpp:6:6: error: function 'total' is defined in two translation units
// CHECK: defined-twice.cpp:12:6: note: the other definition is here
// CHECK-NOT: error:
