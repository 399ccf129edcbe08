// A boundary in the body of a range-for over a C array or a std::array.
// The loop walks it by position. An array that lives outside the frame (at
// namespace scope, or a static local) stays there: the frame carries the
// position only. A local std::array travels with the position. (A local C
// array cannot be hoisted: unhoistable.cpp.) The generated C++ must compile.
// RUN: rm -rf %t
// RUN: cleave build -Rcleave -q -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep -v cross %t.remarks | FileCheck %s --check-prefix=PLACE --implicit-check-not=remark:
// RUN: grep cross %t.remarks | FileCheck %s --check-prefix=CARRY --implicit-check-not=remark:
// RUN: test -f %t/build/libcleave_handlers.so

#include <cleave/cleave.h>

#include <array>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

const int Primes[] = {2, 3, 5, 7};
const std::array<int, 3> Weights = {10, 20, 30};

CLEAVE_ENTRY("POST /primes") int primes(int scale, int unused) {
  int acc = 0;
  for (int p : Primes) {
    int q = quote(p);
    // PLACE: range-for-array.cpp:[[@LINE-1]]:13: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: range-for-array.cpp:[[@LINE-2]]:13: remark: 3 values cross the boundary at {{.*}}range-for-array.cpp:[[@LINE-2]]:13: scale (int), acc (int), p.index (std::size_t) [-Rcleave]
    acc += q * scale;
  }
  return acc;
}

CLEAVE_ENTRY("POST /weights") int weights(int bias) {
  int acc = bias;
  for (int w : Weights)
    acc += quote(w);
  // PLACE: range-for-array.cpp:[[@LINE-1]]:12: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: range-for-array.cpp:[[@LINE-2]]:12: remark: 2 values cross the boundary at {{.*}}range-for-array.cpp:[[@LINE-2]]:12: acc (int), w.index (std::size_t) [-Rcleave]
  return acc;
}

// A local std::array is carried, although the loop only reads it.
CLEAVE_ENTRY("POST /local") int local(int x, int unused) {
  std::array<int, 3> steps = {x, x + 1, x + 2};
  int acc = 0;
  for (int s : steps) {
    acc += quote(s);
    // PLACE: range-for-array.cpp:[[@LINE-1]]:12: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: range-for-array.cpp:[[@LINE-2]]:12: remark: 3 values cross the boundary at {{.*}}range-for-array.cpp:[[@LINE-2]]:12: steps (std::array<int, 3>), acc (int), s.index (std::size_t) [-Rcleave]
  }
  return acc;
}

// A static local array, and two loops after each other: the first loop's
// position does not travel across the second loop's call.
CLEAVE_ENTRY("POST /twice") int twice(int k) {
  static const int Steps[3] = {1, 2, 3};
  int acc = 0;
  for (int s : Steps)
    acc += quote(s + k);
  // PLACE: range-for-array.cpp:[[@LINE-1]]:12: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: range-for-array.cpp:[[@LINE-2]]:12: remark: 3 values cross the boundary at {{.*}}range-for-array.cpp:[[@LINE-2]]:12: k (int), acc (int), s.index (std::size_t) [-Rcleave]
  for (int s : Steps)
    acc -= quote(s);
  // PLACE: range-for-array.cpp:[[@LINE-1]]:12: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: range-for-array.cpp:[[@LINE-2]]:12: remark: 2 values cross the boundary at {{.*}}range-for-array.cpp:[[@LINE-2]]:12: acc (int), s.index (std::size_t) [-Rcleave]
  return acc;
}
