// Once a failure of feature 'raii': an RAII object (its constructor and
// destructor count in plain globals) declared before a boundary in its
// scope: cleave build refuses it, because live locals are hoisted and
// assigned later.
// The compiler at 18798aa said (it agrees with its monolith since 2574351):
//   test/gen/Inputs/known/raii.cpp:35:8: error: 'g4' (u3_G) is declared before a boundary in the same scope, where a resumed step cannot declare it again, and its type cannot be made empty and assigned later; end its scope before the boundary
// Check it with test/gen/harness.py --program FILE (docs/testing.md).
// Reduced by test/gen/reduce.py from cleavegen.py --seed 1 --units 6
//   --size 8 --only b-assign,b-decl,b-return,for,raii,state-scalar
#include <cleave/cleave.h>

#include "cleavegen.h"

// unit 3 begin
CLEAVE_STATE() long u3_s = 67;
static long u3_ctor = 0, u3_dtor = 0, u3_dsum = 0;
struct u3_G {
  long tag;
  explicit u3_G(long t) : tag(t & 0xffff) { ++u3_ctor; }
  ~u3_G() { ++u3_dtor; u3_dsum = (u3_dsum + tag) & 0xffff; }
};
CLEAVE_FUNCTION("memory=1024") long u3_b0(long x) {
  long r = (x * 14 + 89) & 0xffff;
  return r;
}
CLEAVE_FUNCTION("memory=512") long u3_b1(long x) {
  long r = (x * 13 + 48) & 0xffff;
  return r;
}
CLEAVE_ENTRY("POST /f3") long f3(long a, long b) {
  long acc = 17;
  long v1 = ((a ^ ((a * 924) & 0xffff)) & 0xffff);
  long v2 = ((u3_b0(((ck(v1) | 910) & 0xffff)) + ck(v1)) & 0xffff);
  long v3 = ((u3_b0(((a ^ 347) & 0xffff)) + ((a + ck(v2)) & 0xffff)) & 0xffff);
  u3_G g4((((a * ck(v3)) & 0xffff) % (((ck(u3_s) ^ ck(v1)) & 0xffff) % 13 + 1)));
  long v5 = u3_b1(((b | ck(v2)) & 0xffff));
  acc = mix(acc, ck(v5));
  return acc;
}
// unit 3 end
