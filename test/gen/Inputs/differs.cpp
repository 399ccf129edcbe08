// One unit in the generator's format whose entry answers with something
// that differs between two processes (the process id), so that the
// monolith and the deployment cannot agree: the harness must report the
// difference as a failure, with the call and both answers.
#include <cleave/cleave.h>

#include <unistd.h>

#include "cleavegen.h"

// unit 0 begin
CLEAVE_FUNCTION("memory=512") long u0_b0(long x) { return (x * 3 + 1) & 0xffff; }
CLEAVE_ENTRY("POST /f0") long f0(long a, long b) {
  long r = u0_b0(a + b);
  return r + 100000 * static_cast<long>(::getpid());
}
// unit 0 end
