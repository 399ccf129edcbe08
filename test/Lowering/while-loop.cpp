// A boundary in the body of a while loop: the frame carries what the
// condition and the rest of the body read on this and later turns.
// RUN: cleave build -Rcleave -q --no-build -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep -v cross %t.remarks | FileCheck %s --check-prefix=PLACE --implicit-check-not=remark:
// RUN: grep cross %t.remarks | FileCheck %s --check-prefix=CARRY --implicit-check-not=remark:

#include <cleave/cleave.h>

#include <string>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3 + 1; }

CLEAVE_ENTRY("POST /climb") int climb(int target, int step, int unused) {
  int acc = 0;
  int rounds = 0;
  int spare = step * 2; // read only before the loop
  acc += spare;
  while (acc < target) {
    int v = quote(acc);
    // PLACE: while-loop.cpp:[[@LINE-1]]:13: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: while-loop.cpp:[[@LINE-2]]:13: remark: 4 values cross the boundary at {{.*}}while-loop.cpp:[[@LINE-2]]:13: target (int), step (int), acc (int), rounds (int) [-Rcleave]
    if (v == 0)
      break;
    acc += v + step;
    ++rounds;
  }
  return rounds;
}

// A flag loop: the condition reads `done`, but the rest of the body writes
// it first, so it does not travel; `probe` is rewritten at the top of every
// turn; `log` and `n` are read after the call.
CLEAVE_ENTRY("POST /until") std::string until(int limit) {
  bool done = false;
  std::string log;
  int probe = 0;
  int n = 0;
  while (!done) {
    probe = n * 2;
    quote(probe);
    // PLACE: while-loop.cpp:[[@LINE-1]]:5: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: while-loop.cpp:[[@LINE-2]]:5: remark: 3 values cross the boundary at {{.*}}while-loop.cpp:[[@LINE-2]]:5: limit (int), log (std::string), n (int) [-Rcleave]
    log += std::to_string(n);
    done = ++n >= limit;
  }
  return log;
}
