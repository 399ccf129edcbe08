// Boundaries in the branches of an if/else. A frame carries what the rest
// of its own branch and the code after the if read: a variable read only in
// the other branch, or written on every path before it is read, stays home.
// RUN: cleave build -Rcleave -q --no-build -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep -v cross %t.remarks | FileCheck %s --check-prefix=PLACE --implicit-check-not=remark:
// RUN: grep cross %t.remarks | FileCheck %s --check-prefix=CARRY --implicit-check-not=remark:

#include <cleave/cleave.h>

#include <string>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /branch") int branch(int x, int y, std::string s, int z) {
  int r = 0;
  int unused = y + z;
  if (x > 0) {
    r = quote(x);
    // PLACE: if-else.cpp:[[@LINE-1]]:9: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: if-else.cpp:[[@LINE-2]]:9: remark: 2 values cross the boundary at {{.*}}if-else.cpp:[[@LINE-2]]:9: y (int), z (int) [-Rcleave]
    r += y;
  } else {
    int k = quote(-x);
    // PLACE: if-else.cpp:[[@LINE-1]]:13: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: if-else.cpp:[[@LINE-2]]:13: remark: 2 values cross the boundary at {{.*}}if-else.cpp:[[@LINE-2]]:13: s (std::string), z (int) [-Rcleave]
    r = k + (int)s.size();
  }
  return r + z;
}

// Without braces, in an else-if chain, and without an else.
CLEAVE_ENTRY("POST /chain") int chain(int x, int a, int b, int c) {
  int r = a;
  if (x == 0)
    r = quote(a);
  // PLACE: if-else.cpp:[[@LINE-1]]:9: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: if-else.cpp:[[@LINE-2]]:9: remark: 2 values cross the boundary at {{.*}}if-else.cpp:[[@LINE-2]]:9: b (int), c (int) [-Rcleave]
  else if (x == 1)
    r += quote(b);
  // PLACE: if-else.cpp:[[@LINE-1]]:10: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: if-else.cpp:[[@LINE-2]]:10: remark: 3 values cross the boundary at {{.*}}if-else.cpp:[[@LINE-2]]:10: b (int), c (int), r (int) [-Rcleave]
  if (r > c)
    quote(c);
  // PLACE: if-else.cpp:[[@LINE-1]]:5: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: if-else.cpp:[[@LINE-2]]:5: remark: 2 values cross the boundary at {{.*}}if-else.cpp:[[@LINE-2]]:5: b (int), r (int) [-Rcleave]
  return r + b;
}

// `w` is written on both paths after the call before anything reads it, so
// it does not travel although it is read at the end.
CLEAVE_ENTRY("POST /both") int both(int x, int y, bool flag) {
  int w = y;
  int q = quote(x);
  // PLACE: if-else.cpp:[[@LINE-1]]:11: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: if-else.cpp:[[@LINE-2]]:11: remark: 1 value crosses the boundary at {{.*}}if-else.cpp:[[@LINE-2]]:11: flag (bool) [-Rcleave]
  if (flag)
    w = 1;
  else
    w = 2;
  return w + q;
}
