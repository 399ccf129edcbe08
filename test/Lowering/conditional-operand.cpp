// A boundary where only part of an expression is evaluated cannot be cut:
// in an operand of ?: other than the condition, and in the right operand of
// &&, || or the comma operator. The error is at the call, with a note at the
// operator. A boundary in the condition of ?:, in the left operand of &&, or
// in the condition of an if with an init-statement is fine.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /then") int then_arm(int x) {
  return x > 0 ? quote(x) : 0; // expected-error {{a boundary in an operand of ?: cannot be cut; use an if statement}}
  // expected-note@-1 {{the conditional expression is here}}
}

CLEAVE_ENTRY("POST /else") int else_arm(int x) {
  return x > 0 ? 0 : quote(-x); // expected-error {{a boundary in an operand of ?: cannot be cut; use an if statement}}
  // expected-note@-1 {{the conditional expression is here}}
}

CLEAVE_ENTRY("POST /and") bool and_rhs(int x) {
  return x > 0 && quote(x) > 3; // expected-error {{a boundary in the right operand of && cannot be cut; use an if statement}}
  // expected-note@-1 {{the operator is here}}
}

CLEAVE_ENTRY("POST /or") bool or_rhs(int x) {
  bool b = x > 0 || quote(x) > 3; // expected-error {{a boundary in the right operand of || cannot be cut; use an if statement}}
  // expected-note@-1 {{the operator is here}}
  return b;
}

CLEAVE_ENTRY("POST /comma") int comma_rhs(int x) {
  int y = (x += 1, quote(x)); // expected-error {{a boundary in the right operand of , cannot be cut; use an if statement}}
  // expected-note@-1 {{the operator is here}}
  return y;
}

CLEAVE_ENTRY("POST /ifinit") int if_init(int x) {
  if (int y = x + 1; quote(y) > 3)
    return y;
  return 0;
}

// Fine: the condition of ?: and the left operand of && run first.
CLEAVE_ENTRY("POST /fine") int fine(int x) {
  int a = quote(x) > 3 ? x : -x;
  bool b = quote(a) > 0 && a > 1;
  return b ? a : 0;
}
