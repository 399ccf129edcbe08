// Locals declared before a boundary that a resumed step passes again: a C
// array, a structured binding, a lambda. Each keeps its declaration; the
// array and the lambda are rebuilt there from what does not change, and the
// binding, dead after the call, is absent. A C array that changes cannot
// be rebuilt and does not travel: that is an error at its next use.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#include <utility>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

// A local C array that changes, here the range of a range-for around the
// boundary: it does not travel, and cannot be rebuilt.
CLEAVE_ENTRY("POST /carray") int carray(int x) {
  int parts[3] = {x, x + 1, x + 2}; // expected-note {{'parts' is declared here}}
  parts[2] *= 2;
  int acc = 0;
  for (int p : parts) // expected-error {{'parts' (int[3]) is used after the boundary but cannot be carried across it: it is a C array; a std::array travels}}
    acc += quote(p);  // expected-note {{the boundary: 'quote' runs as its own function}}
  return acc;
}

// A structured binding, even when it is dead after the call (see
// structured-binding.cpp for one that is live).
CLEAVE_ENTRY("POST /binding") int binding(int x) {
  auto [a, b] = std::make_pair(x, x + 1);
  int q = quote(a + b);
  return q;
}

CLEAVE_ENTRY("POST /lambda") int lambda(int x) {
  auto twice = [](int y) { return 2 * y; };
  int q = quote(twice(x));
  return twice(q);
}

CLEAVE_ENTRY("POST /changing") int changing(int x) {
  int parts[2] = {x, x};  // expected-note {{'parts' is declared here}}
  parts[1] += 1;
  int q = quote(x);       // expected-note {{the boundary: 'quote' runs as its own function}}
  return q + parts[1];    // expected-error {{'parts' (int[2]) is used after the boundary but cannot be carried across it: it is a C array; a std::array travels}}
}
