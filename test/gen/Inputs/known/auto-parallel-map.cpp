// Once a failure of feature 'auto-parallel-map': the result of
// cleave::parallel_map declared auto and live across a later boundary:
// cleave build accepts it, but the hoisted declaration it writes,
// ::std::std::vector<Result>, does not compile, and the error points into
// the generated source (no #line back to the program).
// The compiler at 18798aa said (it agrees with its monolith since 2574351):
//   OUT/src/auto-parallel-map.cpp:91:10: error: ‘std::std’ has not been declared
//     91 |   ::std::std::vector<Result> v2{};
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
  auto v2 = cleave::parallel_map(v1, u0_b0);
  long v3 = u0_b0(a);
  acc = mix(acc, ck(v2));
  acc = mix(acc, ck(v3));
  return acc;
}
// unit 0 end
