// A boundary call that initializes a variable declared in the head of an if
// or a switch (an init-statement or a condition declaration). The variable
// gets the call's value when the step resumes; it has no value before the
// call, so it does not travel. The generated C++ must compile.
// RUN: rm -rf %t
// RUN: cleave build -Rcleave -q -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep cross %t.remarks | FileCheck %s --implicit-check-not=remark:
// RUN: test -f %t/build/libcleave_handlers.so

#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /init") int init(int x, int lim) {
  if (int q = quote(x); q > lim)
    // CHECK: declared-in-condition.cpp:[[@LINE-1]]:15: remark: 1 value crosses the boundary at {{.*}}: lim (int) [-Rcleave]
    return q;
  return lim;
}

CLEAVE_ENTRY("POST /cond") int cond(int x, int lim) {
  if (int q = quote(x))
    // CHECK: declared-in-condition.cpp:[[@LINE-1]]:15: remark: 1 value crosses the boundary at {{.*}}: lim (int) [-Rcleave]
    return q + lim;
  return lim;
}

CLEAVE_ENTRY("POST /pick") int pick(int x, int lim) {
  switch (int q = quote(x); q % 3) {
    // CHECK: declared-in-condition.cpp:[[@LINE-1]]:19: remark: 1 value crosses the boundary at {{.*}}: lim (int) [-Rcleave]
  case 0:
    return q;
  default:
    return lim;
  }
}
