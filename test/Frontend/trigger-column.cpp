// The caret points into the string, at the character that is wrong.
// RUN: not cleave build --no-build -o %t %s -- -std=c++17 2>&1 | FileCheck %s

#include <cleave/cleave.h>

CLEAVE_ENTRY("GET /a?b") int a() { return 1; }
// CHECK: trigger-column.cpp:[[@LINE-1]]:21: error: malformed trigger 'GET /a?b': invalid character '?' in path
// CHECK-NEXT: {{^}}    6 | CLEAVE_ENTRY("GET /a?b") int a() { return 1; }
// CHECK-NEXT: {{^}}      |                     ^
// CHECK: 1 error generated.
