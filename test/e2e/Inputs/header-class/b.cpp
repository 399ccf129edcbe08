#include <cleave/cleave.h>

#include "counter.h"

long Counter::sub(long x) {
  n = n * 2 - quote(x + 1);
  return n;
}

CLEAVE_ENTRY("POST /b") long b(long x) {
  Counter c;
  c.sub(x);
  return c.add(x);
}
