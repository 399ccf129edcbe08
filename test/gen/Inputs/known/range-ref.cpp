// Once a failure of feature 'range-ref': a range-for whose element is a
// const reference, read after a boundary in the same statement: cleave
// build refuses it, although a reference element read in a later statement
// is bound again after the boundary and accepted.
// The compiler at 18798aa said (it agrees with its monolith since 2574351):
//   test/gen/Inputs/known/range-ref.cpp:24:40: error: 'e2' (long) is used after the boundary but cannot be carried across it: it is a reference, and what it refers to does not travel with the frame
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
  std::vector<long> v1{a, b};
  for (const long &e2 : v1)
    acc = mix(acc, (u0_b0(ck(e2)) + ck(e2)) & 0xffff);
  return acc;
}
// unit 0 end
