// Once a failure of feature 'range-set': a range-for over a std::set<long>
// whose body reaches a boundary: cleave build refuses it (only vectors,
// arrays and strings resume by position).
// The compiler at 18798aa said (it agrees with its monolith since 2574351):
//   test/gen/Inputs/known/range-set.cpp:25:18: error: a range-for around a boundary resumes by position, so it must walk a std::vector, std::array, std::string or an array, not 'std::set<long>'
// Check it with test/gen/harness.py --program FILE (docs/testing.md).
// Reduced by test/gen/reduce.py from cleavegen.py --seed 1 --units 6
//   --size 8 --only
//   b-assign,b-decl,b-return,for,range-set,set,state-scalar
#include <cleave/cleave.h>

#include "cleavegen.h"

// unit 4 begin
CLEAVE_STATE() long u4_s = 46;
static long u4_ctor = 0, u4_dtor = 0, u4_dsum = 0;
CLEAVE_FUNCTION("memory=2048") long u4_b0(long x) {
  long r = (x * 7 + 3) & 0xffff;
  return r;
}
CLEAVE_ENTRY("POST /f4") long f4(long a, long b) {
  long acc = 17;
  std::set<long> v1{a};
  std::set<long> v2{((ck(u4_s) ^ b) & 0xffff), ((ck(u4_s) + 125) & 0xffff), ((ck(v1) ^ ck(v1)) & 0xffff)};
  for (long e3 : v2) {
    long v4 = ((u4_b0(a) + (ck(v1) % (ck(v2) % 13 + 1))) & 0xffff);
  }
  return acc;
}
// unit 4 end
