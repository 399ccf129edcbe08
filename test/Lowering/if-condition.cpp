// A boundary call in the condition of an if: the step resumes inside the
// condition, so the frame carries what the rest of the condition reads as
// well as what either branch and the code after the if read.
// RUN: cleave build -Rcleave -q --no-build -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep -v cross %t.remarks | FileCheck %s --check-prefix=PLACE --implicit-check-not=remark:
// RUN: grep cross %t.remarks | FileCheck %s --check-prefix=CARRY --implicit-check-not=remark:

#include <cleave/cleave.h>

#include <string>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /check") int check(int x, int lim, std::string tag, int unused) {
  int r = 0;
  int before = x + 1; // read by the call only
  if (quote(before) > lim) {
    // PLACE: if-condition.cpp:[[@LINE-1]]:7: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: if-condition.cpp:[[@LINE-2]]:7: remark: 3 values cross the boundary at {{.*}}if-condition.cpp:[[@LINE-2]]:7: x (int), lim (int), tag (std::string) [-Rcleave]
    r = (int)tag.size();
  } else {
    r = x;
  }
  return r;
}

// In an else-if condition, with the call on the right of the comparison;
// `r` is written in every branch before it is read.
CLEAVE_ENTRY("POST /grade") int grade(int score, int bonus, int floor) {
  int r = -1;
  if (score < floor)
    r = 0;
  else if (score + bonus >= quote(floor))
    // PLACE: if-condition.cpp:[[@LINE-1]]:29: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: if-condition.cpp:[[@LINE-2]]:29: remark: 2 values cross the boundary at {{.*}}if-condition.cpp:[[@LINE-2]]:29: score (int), bonus (int) [-Rcleave]
    r = 2;
  else
    r = 1;
  return r;
}

// A negated condition without an else; the call's value is read once.
CLEAVE_ENTRY("POST /gate") int gate(int x, int y) {
  int out = y;
  if (!quote(x))
    // PLACE: if-condition.cpp:[[@LINE-1]]:8: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: if-condition.cpp:[[@LINE-2]]:8: remark: 1 value crosses the boundary at {{.*}}if-condition.cpp:[[@LINE-2]]:8: out (int) [-Rcleave]
    out = -out;
  return out;
}
