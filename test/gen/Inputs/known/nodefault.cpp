// Once a failure of feature 'nodefault': a local of a type without a
// default constructor, used after a boundary: cleave build refuses it,
// because live locals are hoisted and must be default-constructible.
// The compiler at 18798aa said (it agrees with its monolith since 2574351):
//   test/gen/Inputs/known/nodefault.cpp:27:21: error: 'v2' (u0_N) is used after the boundary but cannot be carried across it: 'u0_N' has no default constructor
// Check it with test/gen/harness.py --program FILE (docs/testing.md).
// Reduced by test/gen/reduce.py from cleavegen.py --seed 1 --units 6
//   --size 8 --only b-assign,b-decl,b-return,nodefault,state-scalar
#include <cleave/cleave.h>

#include "cleavegen.h"

// unit 0 begin
CLEAVE_STATE() long u0_s = 65;
static long u0_ctor = 0, u0_dtor = 0, u0_dsum = 0;
struct u0_N { long v; explicit u0_N(long x) : v(x & 0xffff) {} };
static long ck(const u0_N &n) { return n.v; }
CLEAVE_FUNCTION("memory=1024") long u0_b0(long x) {
  long r = (x * 34 + 57) & 0xffff;
  return r;
}
CLEAVE_ENTRY("POST /f0") long f0(long a, long b) {
  long acc = 17;
  long v1 = ((u0_b0(((a * 850) & 0xffff)) + ((a + a) & 0xffff)) & 0xffff);
  u0_N v2(((u0_b0(((60 * 162) & 0xffff)) + ((ck(v1) ^ ck(v1)) & 0xffff)) & 0xffff));
  v1 = u0_b0(((502 + b) & 0xffff));
  u0_s = (u0_s + ck(v2)) & 0xffff;
  return acc;
}
// unit 0 end
