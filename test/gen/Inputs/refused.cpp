// Two units in the generator's format: f0 reaches a boundary inside a
// try-block whose handler catches an int, which does not cross a boundary
// (cleave build refuses it, located);
// f1 is fine. The harness must count f0 as refused, drop it,
// build the rest and find f1 in agreement.
#include <cleave/cleave.h>

#include "cleavegen.h"

// unit 0 begin
CLEAVE_FUNCTION("memory=512") long u0_b0(long x) { return (x * 3 + 1) & 0xffff; }
CLEAVE_ENTRY("POST /f0") long f0(long a, long b) {
  long r = 0;
  try {
    r = u0_b0(a);
  } catch (int) {
    r = b;
  }
  return r;
}
// unit 0 end

// unit 1 begin
CLEAVE_STATE() long u1_s = 5;
CLEAVE_FUNCTION("memory=1024") long u1_b0(long x) { return (x * 7 + 2) & 0xffff; }
CLEAVE_ENTRY("GET /f1") long f1(long a, long b) {
  long acc = 17;
  for (int i = 0; i < 2; ++i)
    acc = mix(acc, u1_b0(a + i));
  u1_s = (u1_s + acc + b) & 0xffff;
  return mix(acc, u1_s);
}
// unit 1 end
