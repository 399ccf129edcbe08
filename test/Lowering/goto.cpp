// A goto whose jump spans a boundary cannot be resumed on the other side.
// The error is at the goto, with notes at the boundary and at the label; a
// goto that stays on one side of every boundary is fine.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

// Forward, over the call.
CLEAVE_ENTRY("POST /skip") int skip(int x) {
  int q = 0;
  if (x < 0)
    goto done; // expected-error {{this goto jumps across a boundary; a function cut into steps cannot be resumed on the other side}}
  q = quote(x); // expected-note {{the boundary is here}}
done: // expected-note {{the label is here}}
  return q;
}

// Backward, a loop made of a label and a goto around the call.
CLEAVE_ENTRY("POST /again") int again(int x) {
  int q = 0;
again: // expected-note {{the label is here}}
  q += quote(x); // expected-note {{the boundary is here}}
  if (q < 100)
    goto again; // expected-error {{this goto jumps across a boundary; a function cut into steps cannot be resumed on the other side}}
  return q;
}

// After the last boundary, the goto does not span it.
CLEAVE_ENTRY("POST /after") int after(int x) {
  int q = quote(x);
  if (q > 10)
    goto out;
  q = -q;
out:
  return q;
}
