// A boundary in a loop's condition (or a for loop's increment) cannot be
// resumed: the step after the call would have to re-enter the test. The
// error is at the call, with a note at the loop. A call in a for loop's
// init statement is fine (for-loop.cpp).
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /while") int while_cond(int x) {
  int n = 0;
  while (quote(n) < x) // expected-error {{a boundary in a loop condition cannot be resumed; call it in the loop body and keep the result in a variable}}
    ++n;               // expected-note@-1 {{the loop is here}}
  return n;
}

CLEAVE_ENTRY("POST /do") int do_cond(int x) {
  int n = 0;
  do { // expected-note {{the loop is here}}
    ++n;
  } while (quote(n) < x); // expected-error {{a boundary in a loop condition cannot be resumed; call it in the loop body and keep the result in a variable}}
  return n;
}

CLEAVE_ENTRY("POST /for") int for_cond(int x) {
  int n = 0;
  for (int i = 0; i < quote(x); ++i) // expected-error {{a boundary in a loop condition or increment cannot be resumed; call it in the loop body}}
    ++n;                             // expected-note@-1 {{the loop is here}}
  return n;
}

CLEAVE_ENTRY("POST /inc") int for_inc(int x) {
  int n = 0;
  for (int i = 0; i < x; i = quote(i) + 1) // expected-error {{a boundary in a loop condition or increment cannot be resumed; call it in the loop body}}
    ++n;                                   // expected-note@-1 {{the loop is here}}
  return n;
}

// The condition of a while nested in the body of a for.
CLEAVE_ENTRY("POST /inner") int inner(int x) {
  int n = 0;
  for (int i = 0; i < x; ++i) {
    while (quote(n) < i) // expected-error {{a boundary in a loop condition cannot be resumed}}
      ++n;               // expected-note@-1 {{the loop is here}}
  }
  return n;
}
