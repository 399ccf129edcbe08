// Once a failure of feature 'b-operand': a boundary in the right operand of
// || whose left operand is a constant (456 % 3 == 0). Clang's CFG drops the
// right operand as dead code, so liveness said v9 was dead at the
// parallel_map before it, while the statement around the next boundary
// (which names v9 in that operand) carried it: the step resumed after the
// parallel_map left v9 absent and then saved it into the next frame. The
// deployment crashed (a segfault in the frame encoder) or answered 500
// "basic_string::_M_replace_aux"; the monolith answered. Since a Local
// refuses to save an object it does not hold, the same defect is a
// deterministic 500 here.
// Check it with test/gen/harness.py --program FILE (docs/testing.md).
// Reduced by hand from seed 3 of test/gen/batch.test, unit 33.
#include <cleave/cleave.h>

#include "cleavegen.h"

// unit 0 begin
CLEAVE_STATE() long u0_s = 7;
static long u0_ctor = 0, u0_dtor = 0, u0_dsum = 0;
CLEAVE_FUNCTION("memory=1024") long u0_b0(long x) {
  long r = (x * 34 + 57) & 0xffff;
  u0_s = (u0_s + r) & 0xffff;
  return r;
}
CLEAVE_ENTRY("GET /f0") long f0(long a, long b) {
  long acc = 17;
  int w1 = 0;
  while (w1 < 1 && u0_b0(u0_b0(a)) % 5 != 4) {
    ++w1;
    std::vector<long> v9{a % 13, b};
    std::vector<long> v10 = cleave::parallel_map(v9, u0_b0);
    if (u0_b0(a ^ b) % 3 == 0) {
      acc = mix(acc, ck(v10));
      long v11 = ((456 % 3 == 0 || u0_b0(ck(v9)) % 2 == 1) ? 193 : 9);
      acc = mix(acc, v11);
    }
  }
  acc = mix(acc, ck(w1));
  acc = mix(acc, ck(u0_s));
  return acc;
}
// unit 0 end
