//===- add.cpp - The program of the HTTP benchmark ------------------------===//
//
// One entry with one step: read a state variable, add, write it back. The
// smallest function that still does what every entry does (decode
// arguments, run in a state transaction, commit, encode the result). And
// the same on a map stored per key, for commits that do not contend.
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <map>
#include <string>

CLEAVE_STATE() long total = 0;

/// A total per key, stored per key: requests on different keys commit
/// independently (the durability benchmark gives each client its own).
CLEAVE_STATE() std::map<std::string, long> totals;

CLEAVE_ENTRY("POST /add-to")
long add_to(std::string key, long n) {
  totals[key] += n;
  return totals[key];
}

CLEAVE_ENTRY("POST /add")
long add(long n) {
  total += n;
  return total;
}

int main() { return add(1) == 1 && add_to("k", 2) == 2 ? 0 : 1; }
