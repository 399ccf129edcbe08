// Once a failure of feature 'tuple': a std::tuple<long, long, long> local
// used after a boundary cannot be carried: cleave build refuses it.
// Declared before a boundary in the same scope, it is refused as a type
// that cannot be made empty and assigned later.
// The compiler at 18798aa said (it agrees with its monolith since 2574351):
//   test/gen/Inputs/known/tuple.cpp:24:29: error: 'v2' (std::tuple<long, long, long>) is used after the boundary but cannot be carried across it: 'std::tuple<long, long, long>' is not supported by generated serializers (supported: std::string, std::vector, std::map and std::unordered_map with std::string keys, std::optional)
// Check it with test/gen/harness.py --program FILE (docs/testing.md).
// Reduced by test/gen/reduce.py from cleavegen.py --seed 1 --units 6
//   --size 8 --only b-assign,b-decl,b-return,state-scalar,tuple
#include <cleave/cleave.h>

#include "cleavegen.h"

// unit 0 begin
CLEAVE_STATE() long u0_s = 65;
static long u0_ctor = 0, u0_dtor = 0, u0_dsum = 0;
CLEAVE_FUNCTION("memory=1024") long u0_b0(long x) {
  long r = (x * 34 + 57) & 0xffff;
  return r;
}
CLEAVE_ENTRY("POST /f0") long f0(long a, long b) {
  long v1 = ((u0_b0(((a * 850) & 0xffff)) + ((a + a) & 0xffff)) & 0xffff);
  std::tuple<long, long, long> v2(((b | b) & 0xffff), ck(v1), 162);
  v1 = ((u0_b0(ck(v1)) + ck(v2)) & 0xffff);
  return v1;
}
// unit 0 end
