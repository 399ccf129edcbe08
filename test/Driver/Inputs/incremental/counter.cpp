// The entry of the program that incremental-build.test builds twice.
#include <cleave/cleave.h>

CLEAVE_STATE() long hits = 0;

long bump(long by); // step.cpp

CLEAVE_ENTRY("POST /hit") long hit(long by) {
  hits += bump(by);
  return hits;
}
