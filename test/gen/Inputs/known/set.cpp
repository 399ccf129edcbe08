// Once a failure of feature 'set': a std::set<long> local used after a
// boundary cannot be carried: cleave build refuses it.
// The compiler at 18798aa said (it agrees with its monolith since 2574351):
//   test/gen/Inputs/known/set.cpp:23:27: error: 'v1' (std::set<long>) is used after the boundary but cannot be carried across it: 'std::set<long>' is not supported by generated serializers (supported: std::string, std::vector, std::map and std::unordered_map with std::string keys, std::optional)
// Check it with test/gen/harness.py --program FILE (docs/testing.md).
// Reduced by test/gen/reduce.py from cleavegen.py --seed 1 --units 6
//   --size 8 --only b-assign,b-decl,b-return,set,state-scalar
#include <cleave/cleave.h>

#include "cleavegen.h"

// unit 4 begin
CLEAVE_STATE() long u4_s = 46;
static long u4_ctor = 0, u4_dtor = 0, u4_dsum = 0;
CLEAVE_FUNCTION("memory=1024") long u4_b1(long x) {
  long r = (x * 25 + 74) & 0xffff;
  return r;
}
CLEAVE_ENTRY("POST /f4") long f4(long a, long b) {
  long acc = 17;
  std::set<long> v1{a};
  long v2 = u4_b1(((ck(v1) + 946) & 0xffff));
  long v3 = ((ck(v2) * ck(v1)) & 0xffff);
  return acc;
}
// unit 4 end
