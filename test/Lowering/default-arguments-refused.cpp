// A default argument that is not a constant cannot be written in the
// caller's step: its names belong to the callee's declaration. The error is
// at the call, with a note at the parameter.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

namespace pricing {
inline int base() { return 4; }
CLEAVE_FUNCTION("memory=2048") int quote(int x, int b = base()) { // expected-note {{the parameter is declared here}}
  return x * b;
}
} // namespace pricing

CLEAVE_ENTRY("POST /q") int q(int x) {
  return pricing::quote(x); // expected-error {{parameter 'b' of 'quote' takes its default argument, which is not a constant; across a boundary write it out}}
}
