//===- guarded.cpp - Entries with each kind of authentication -------------===//
//
// The end-to-end test of bearer tokens (auth.py) serves this program with
// and without --auth-token-file. It has one entry of each kind:
//
//   POST /add     no auth option: open without a token file, guarded with one;
//   GET /health   auth=none: answers anyone, tokens or not;
//   GET /total    auth=token: guarded, and cleave-run refuses to start
//                 without tokens.
//
// `total` changes only through POST /add, so the test can tell whether a
// refused call ran, and how many times a repeated one did.
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <iostream>
#include <string>

CLEAVE_STATE() long total = 0;

/// Adds \p by to the total and returns the new total.
CLEAVE_ENTRY("POST /add") long add(long by) {
  total += by;
  return total;
}

/// Liveness for load balancers, which hold no token.
CLEAVE_FUNCTION("auth=none")
CLEAVE_ENTRY("GET /health") std::string health() { return "ok"; }

/// The total, for callers with a token only.
CLEAVE_FUNCTION("auth=token")
CLEAVE_ENTRY("GET /total") long read_total() { return total; }

int main() {
  add(2);
  add(3);
  std::cout << health() << " total=" << read_total() << "\n";
  return 0;
}
