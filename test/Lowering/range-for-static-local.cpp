// A range-for whose loop variable is a reference into a static local
// array. The array does not travel (it is not in the frame), and the loop
// variable is bound again from it when the step resumes, where the static
// local must be in scope: the generated C++ must compile.
// RUN: rm -rf %t
// RUN: cleave build -Rcleave -q -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep cross %t.remarks | FileCheck %s --implicit-check-not=remark:
// RUN: test -f %t/build/libcleave_handlers.so

#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /steps") int steps(int scale) {
  static int Steps[3] = {1, 2, 3};
  int acc = 0;
  for (int &s : Steps) {
    acc += quote(s) * scale;
    // CHECK: range-for-static-local.cpp:[[@LINE-1]]:12: remark: 3 values cross the boundary at {{.*}}: scale (int), acc (int), s.index (std::size_t) [-Rcleave]
    acc += s;
  }
  return acc;
}
