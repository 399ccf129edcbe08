// State read by one entry, written by another and both read and written by
// a third, which also stops at two boundaries: its steps are 0, 1 and 2.
#include <cleave/cleave.h>

CLEAVE_STATE() long hits = 0;
CLEAVE_STATE() long last = 0;

CLEAVE_FUNCTION("memory=1024") long twice(long x) { return 2 * x; }

CLEAVE_ENTRY("GET /hits") long read_hits() { return hits; }

CLEAVE_ENTRY("POST /last") void set_last(long v) { last = v; }

CLEAVE_ENTRY("POST /hit") long hit(long x) {
  long a = twice(x);
  long b = twice(a);
  ++hits;
  return a + b + hits;
}

int main() { return (int)hit(read_hits()); }
