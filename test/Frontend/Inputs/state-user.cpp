#include <cleave/cleave.h>

extern long fees;

CLEAVE_ENTRY("POST /charge") void charge(long n) {
  fees += n;
}
