// Second unit for placement.cpp: a plain helper that calls a CLEAVE_FUNCTION
// defined in the other unit.
#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") double quote(int qty);

int via_other_unit(int n) {
  return (int)quote(n);
}
