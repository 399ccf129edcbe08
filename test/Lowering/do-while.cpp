// A boundary in the body of a do-while loop: the body runs before the
// condition is first tested, and the frame carries what the condition reads.
// RUN: cleave build -Rcleave -q --no-build -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep -v cross %t.remarks | FileCheck %s --check-prefix=PLACE --implicit-check-not=remark:
// RUN: grep cross %t.remarks | FileCheck %s --check-prefix=CARRY --implicit-check-not=remark:

#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /repeat") int repeat(int n, int scale, int unused) {
  int acc = 0;
  int i = 0;
  int last = 0;
  do {
    int base = i * scale;
    acc += quote(base);
    // PLACE: do-while.cpp:[[@LINE-1]]:12: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: do-while.cpp:[[@LINE-2]]:12: remark: 4 values cross the boundary at {{.*}}do-while.cpp:[[@LINE-2]]:12: n (int), scale (int), acc (int), i (int) [-Rcleave]
    last = i;
    ++i;
  } while (i < n);
  return acc + last;
}

// Two calls in one turn: the first carries what the second needs.
CLEAVE_ENTRY("POST /pairs") int pairs(int n) {
  int total = 0;
  int k = 0;
  do {
    int a = quote(k);
    // PLACE: do-while.cpp:[[@LINE-1]]:13: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: do-while.cpp:[[@LINE-2]]:13: remark: 3 values cross the boundary at {{.*}}do-while.cpp:[[@LINE-2]]:13: n (int), total (int), k (int) [-Rcleave]
    int b = quote(k + 1);
    // PLACE: do-while.cpp:[[@LINE-1]]:13: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: do-while.cpp:[[@LINE-2]]:13: remark: 4 values cross the boundary at {{.*}}do-while.cpp:[[@LINE-2]]:13: n (int), total (int), k (int), a (int) [-Rcleave]
    total += a * b;
    k += 2;
  } while (k < n);
  return total;
}
