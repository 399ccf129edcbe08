// Once a failure of feature 'state-dtor': an RAII object whose destructor
// writes CLEAVE_STATE, used after a boundary: cleave build refuses it,
// because live locals are hoisted and must be default-constructible.
// (Declared before a boundary and not used after it, it is refused as in
// raii.cpp.)
// The compiler at 18798aa said (it agrees with its monolith since 2574351):
//   test/gen/Inputs/known/state-dtor.cpp:33:21: error: 'v2' (u0_G) is used after the boundary but cannot be carried across it: 'u0_G' has no default constructor
// Check it with test/gen/harness.py --program FILE (docs/testing.md).
// Reduced by test/gen/reduce.py from cleavegen.py --seed 1 --units 6
//   --size 8 --only b-assign,b-decl,b-return,raii,state-dtor,state-scalar
#include <cleave/cleave.h>

#include "cleavegen.h"

// unit 0 begin
CLEAVE_STATE() long u0_s = 65;
static long u0_ctor = 0, u0_dtor = 0, u0_dsum = 0;
struct u0_G {
  long tag;
  explicit u0_G(long t) : tag(t & 0xffff) { ++u0_ctor; }
  ~u0_G() { ++u0_dtor; u0_dsum = (u0_dsum + tag) & 0xffff; u0_s = (u0_s + tag) & 0xffff; }
};
static long ck(const u0_G &g) { return g.tag; }
CLEAVE_FUNCTION("memory=1024") long u0_b0(long x) {
  long r = (x * 34 + 57) & 0xffff;
  return r;
}
CLEAVE_ENTRY("POST /f0") long f0(long a, long b) {
  long acc = 17;
  u0_G v2(((b | b) & 0xffff));
  u0_G v3(((a ^ ((ck(u0_s) ^ ck(v2)) & 0xffff)) & 0xffff));
  long v4 = ((u0_b0(ck(v3)) + 621) & 0xffff);
  acc = mix(acc, ck(v2));
  return acc;
}
// unit 0 end
