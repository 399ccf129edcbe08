// A boundary call whose value is discarded (an expression statement). The
// generated code must compile without warnings wherever the user's code
// does, so that a project built with -Werror still builds its deployment.
// RUN: rm -rf %t
// RUN: cleave build -Rcleave -q -o %t %s -- -std=c++17 -Werror 2> %t.remarks
// RUN: grep cross %t.remarks | FileCheck %s --implicit-check-not=remark:
// RUN: test -f %t/build/libcleave_handlers.so

#include <cleave/cleave.h>

#include <string>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }
CLEAVE_FUNCTION("memory=2048") std::string label(int x) { return std::to_string(x); }

CLEAVE_ENTRY("POST /warm") void warm(int x, int y) {
  quote(x);
  // CHECK: discarded-value.cpp:[[@LINE-1]]:3: remark: 1 value crosses the boundary at {{.*}}: y (int) [-Rcleave]
  label(y);
  // CHECK: discarded-value.cpp:[[@LINE-1]]:3: remark: no value crosses the boundary at {{.*}} [-Rcleave]
}
