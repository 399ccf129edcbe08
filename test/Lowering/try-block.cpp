// A boundary inside a try block or a handler cannot be resumed: the callee's
// exception ends the chain, and the handler would not be there to catch it.
// The error is at the call, with a note at the try block, at any depth.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#include <stdexcept>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /direct") int direct(int x) {
  try { // expected-note {{the try block is here}}
    int q = quote(x); // expected-error {{a boundary inside a try block cannot be resumed: the handler would not be there when the callee throws}}
    return q;
  } catch (const std::exception &) {
    return -1;
  }
}

CLEAVE_ENTRY("POST /nested") int nested(int x) {
  int r = 0;
  try { // expected-note {{the try block is here}}
    for (int i = 0; i < x; ++i) {
      if (i % 2)
        r += quote(i); // expected-error {{a boundary inside a try block cannot be resumed}}
    }
  } catch (...) {
    r = -1;
  }
  return r;
}

CLEAVE_ENTRY("POST /handler") int handler(int x) {
  int r = 0;
  try {
    if (x < 0)
      throw std::invalid_argument("negative");
    r = x;
  } catch (const std::invalid_argument &) { // expected-note {{the try block is here}}
    r = quote(-x); // expected-error {{a boundary inside a try block cannot be resumed}}
  }
  return r;
}

// A try block without a boundary in a function that has one is fine.
CLEAVE_ENTRY("POST /beside") int beside(int x) {
  int r = quote(x);
  try {
    if (r < 0)
      throw std::invalid_argument("negative");
  } catch (...) {
    r = 0;
  }
  return r;
}
