// A resumed step jumps past the declarations before its boundary, so every
// local declared before a boundary in an enclosing block is hoisted: declared
// once at the top of the machine and assigned where it was declared. Locals
// that cannot be declared apart from their initialization are errors at the
// declaration, whether or not they are live after the call.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#include <utility>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

// A local C array, here the range of a range-for around the boundary.
CLEAVE_ENTRY("POST /carray") int carray(int x) {
  int parts[3] = {x, x + 1, x + 2}; // expected-error {{'parts' is declared before a boundary in the same scope, where a resumed step cannot declare it again; use a std::array}}
  int acc = 0;
  for (int p : parts)
    acc += quote(p);
  return acc;
}

// A structured binding, even when it is dead after the call (see
// structured-binding.cpp for one that is live).
CLEAVE_ENTRY("POST /binding") int binding(int x) {
  auto [a, b] = std::make_pair(x, x + 1); // expected-error {{this structured binding is declared before a boundary in the same scope, where a resumed step cannot declare it again; use a plain variable instead of a structured binding}}
  int q = quote(a + b);
  return q;
}

CLEAVE_ENTRY("POST /lambda") int lambda(int x) {
  auto twice = [](int y) { return 2 * y; }; // expected-error {{lambda 'twice' is declared before a boundary in the same scope; a resumed step cannot declare it again}}
  int q = quote(twice(x));                  // expected-note {{the boundary is here}}
  return q;
}
