// Once a failure of feature 'bindings': a structured binding declared
// before a boundary in its scope: cleave build refuses it.
// The compiler at 18798aa said (it agrees with its monolith since 2574351):
//   test/gen/Inputs/known/bindings.cpp:20:8: error: this structured binding is declared before a boundary in the same scope, where a resumed step cannot declare it again; use a plain variable instead of a structured binding
// Check it with test/gen/harness.py --program FILE (docs/testing.md).
// Written by hand in the generator's format.
#include <cleave/cleave.h>

#include "cleavegen.h"

// unit 0 begin
CLEAVE_STATE() long u0_s = 7;
static long u0_ctor = 0, u0_dtor = 0, u0_dsum = 0;
CLEAVE_FUNCTION("memory=1024") long u0_b0(long x) {
  long r = (x * 34 + 57) & 0xffff;
  return r;
}
CLEAVE_ENTRY("POST /f0") long f0(long a, long b) {
  long acc = 17;
  auto [v1, v2] = std::make_pair(a, b);
  long v3 = u0_b0(a);
  acc = mix(acc, ck(v1));
  acc = mix(acc, ck(v2));
  acc = mix(acc, ck(v3));
  return acc;
}
// unit 0 end
