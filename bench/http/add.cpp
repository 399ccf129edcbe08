//===- add.cpp - The program of the HTTP benchmark ------------------------===//
//
// One entry with one step: read a state variable, add, write it back. The
// smallest function that still does what every entry does (decode
// arguments, run in a state transaction, commit, encode the result).
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

CLEAVE_STATE() long total = 0;

CLEAVE_ENTRY("POST /add")
long add(long n) {
  total += n;
  return total;
}

int main() { return add(1) == 1 ? 0 : 1; }
