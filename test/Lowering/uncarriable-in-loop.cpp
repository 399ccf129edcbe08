// In a loop, the first use after a boundary can come before the call in the
// source: the next turn reads the value at the top of the body, or in the
// loop's condition. The error is at that use, with the usual notes.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /top") int top(int n) {
  int local = n;
  int *ptr = &local; // expected-note {{'ptr' is declared here}}
  int total = 0;
  for (int i = 0; i < n; ++i) {
    total += *ptr; // expected-error {{'ptr' (int *) is used after the boundary but cannot be carried across it: 'int *' is a pointer}}
    total += quote(i); // expected-note {{the boundary: 'quote' runs as its own function}}
  }
  return total;
}

CLEAVE_ENTRY("POST /cond") int cond(int n) {
  int left = n;
  int *remaining = &left; // expected-note {{'remaining' is declared here}}
  int total = 0;
  while (*remaining > 0) { // expected-error {{'remaining' (int *) is used after the boundary but cannot be carried across it: 'int *' is a pointer}}
    total += quote(left); // expected-note {{the boundary: 'quote' runs as its own function}}
    --left;
  }
  return total;
}
