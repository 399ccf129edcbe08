// A syntax error is reported as Clang reports it; nothing is written.
// RUN: rm -rf %t
// RUN: not cleave build --no-build -o %t %s -- -std=c++17 2>&1 | FileCheck %s
// RUN: not test -e %t/manifest.yaml

#include <cleave/cleave.h>

CLEAVE_ENTRY("GET /x") int f( { return 1 }
// CHECK: syntax-error.cpp:[[@LINE-1]]:{{[0-9]+}}: error:

CLEAVE_ENTRY("GET /y") int g(int b) { return b }
// CHECK: syntax-error.cpp:[[@LINE-1]]:{{[0-9]+}}: error: expected ';'
// CHECK-NOT: Stack dump
