#include <cleave/cleave.h>

#include "counter.h"

CLEAVE_FUNCTION("memory=2048") long quote(long x) { return x * 3; }

long Counter::add(long x) {
  n += quote(x);
  return n;
}

CLEAVE_ENTRY("POST /a") long a(long x) {
  Counter c;
  c.add(x);
  return c.sub(x);
}
