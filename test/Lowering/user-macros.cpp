// The program's macros whose names the generated code uses itself (the
// runtime's 'Step', 'Local', 'Resume', its namespace 'rt', a member
// 'suspend'): the handler library undefines them for the
// generated code (#pragma push_macro), which follows the program's, so the
// deployment answers as the plain program, which uses some of them itself.
// Macros the generated code does not name ('Bump', 'TWICE', 'pending'
// here) stay.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest user-macros: 4 calls agree (4 x 200)
// RUN: FileCheck %s --check-prefix=GUARD < %t/diff/out/src/user-macros.cpp
// GUARD-DAG: {{^}}#pragma push_macro("Step")
// GUARD-DAG: {{^}}#pragma push_macro("Local")
// GUARD-DAG: {{^}}#pragma push_macro("Resume")
// GUARD-DAG: {{^}}#pragma push_macro("rt")
// GUARD-DAG: {{^}}#pragma push_macro("suspend")
// RUN: FileCheck %s --check-prefix=KEPT < %t/diff/out/src/user-macros.cpp
// KEPT-NOT: {{^}}#undef TWICE
// KEPT-NOT: {{^}}#undef Bump

#include <cleave/cleave.h>

#include <string>

#define Step 3
#define Bump(x) ((x) + 1)
#define Local local_value
#define Resume 0 +
#define rt
#define suspend halt
#define pending 2
#define TWICE(x) ((x) * 2)

struct Order {
  std::string item;
  int qty = 0;
};

int halt(int x) { return x + pending + Step; }

CLEAVE_FUNCTION("memory=2048") int quote(Order o) {
  return TWICE(o.qty) + static_cast<int>(o.item.size());
}

CLEAVE_ENTRY("POST /place") int place(int qty, int extra) {
  Order o{"tea", qty};
  int q = quote(o);
  return TWICE(q) + extra;
}

CLEAVE_ENTRY("GET /plain") int plain(int x) {
  int Local = Resume suspend(Bump(x));
  return Local rt;
}

// CALL: POST /place {"qty": 3, "extra": 4}
// CALL: POST /place {"qty": 0, "extra": -1}
// CALL: GET /plain {"x": 5}
// CALL: GET /plain {"x": -2}
