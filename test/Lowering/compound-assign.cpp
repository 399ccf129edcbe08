// A boundary call on the right of a compound assignment: the left-hand side
// is read when the step resumes, so it travels although the call comes
// first in the source. A plain assignment's target does not travel.
// RUN: cleave build -Rcleave -q --no-build -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep -v cross %t.remarks | FileCheck %s --check-prefix=PLACE --implicit-check-not=remark:
// RUN: grep cross %t.remarks | FileCheck %s --check-prefix=CARRY --implicit-check-not=remark:

#include <cleave/cleave.h>

#include <string>
#include <vector>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }
CLEAVE_FUNCTION("memory=1024") std::string label(int x) { return std::to_string(x); }

CLEAVE_ENTRY("POST /acc") int acc(int x, int y) {
  int total = y;
  int z = 0;
  total += quote(x);
  // PLACE: compound-assign.cpp:[[@LINE-1]]:12: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: compound-assign.cpp:[[@LINE-2]]:12: remark: 1 value crosses the boundary at {{.*}}compound-assign.cpp:[[@LINE-2]]:12: total (int) [-Rcleave]
  z = total;
  total = quote(z);
  // PLACE: compound-assign.cpp:[[@LINE-1]]:11: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: compound-assign.cpp:[[@LINE-2]]:11: remark: no value crosses the boundary at {{.*}}compound-assign.cpp:[[@LINE-2]]:11 [-Rcleave]
  return total;
}

// Other operators, an element of a vector (the vector and the index travel)
// and a string; `k` is read by the right-hand side after the call.
CLEAVE_ENTRY("POST /ops") std::vector<int> ops(std::vector<int> v, int i, int k, std::string s) {
  v[i] -= quote(k) * k;
  // PLACE: compound-assign.cpp:[[@LINE-1]]:11: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: compound-assign.cpp:[[@LINE-2]]:11: remark: 4 values cross the boundary at {{.*}}compound-assign.cpp:[[@LINE-2]]:11: v (std::vector<int>), i (int), k (int), s (std::string) [-Rcleave]
  s += label(i);
  // PLACE: compound-assign.cpp:[[@LINE-1]]:8: remark: 'label' runs as its own function: memory 1024 MiB vs 256 MiB [-Rcleave]
  // CARRY: compound-assign.cpp:[[@LINE-2]]:8: remark: 2 values cross the boundary at {{.*}}compound-assign.cpp:[[@LINE-2]]:8: v (std::vector<int>), s (std::string) [-Rcleave]
  v.push_back((int)s.size());
  return v;
}
