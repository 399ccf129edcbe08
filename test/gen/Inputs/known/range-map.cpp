// Once a failure of feature 'range-map': a range-for over a
// std::map<std::string, long> whose body reaches a boundary: cleave build
// refuses it (only vectors, arrays and strings resume by position).
// The compiler at 18798aa said (it agrees with its monolith since 2574351):
//   test/gen/Inputs/known/range-map.cpp:25:56: error: a range-for around a boundary resumes by position, so it must walk a std::vector, std::array, std::string or an array, not 'std::map<std::basic_string<char>, long>'
// Check it with test/gen/harness.py --program FILE (docs/testing.md).
// Reduced by test/gen/reduce.py from cleavegen.py --seed 1 --units 6
//   --size 8 --only
//   b-assign,b-decl,b-return,for,map,range-map,state-scalar
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
  long acc = 17;
  long v1 = ((u0_b0(((a * 850) & 0xffff)) + ((a + a) & 0xffff)) & 0xffff);
  std::map<std::string, long> v2{};
  for (const std::pair<const std::string, long> &kv5 : v2) {
    v1 = u0_b0(((a ^ ck(v2)) & 0xffff));
  }
  return acc;
}
// unit 0 end
