// Recursion through a boundary: a chain of steps cannot call itself. Each
// call on the cycle is an error, with a note at the function it reaches
// again.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

int ping(int n);

// pong has another profile, so each call between ping and pong crosses a
// boundary, and each reaches its own caller again.
CLEAVE_FUNCTION("memory=2048") int pong(int n) { // expected-note {{'pong' is defined here}}
  if (n <= 0)
    return 0;
  return ping(n - 1) + 1; // expected-error {{recursion through a boundary: 'ping' reaches 'pong' again, and a chain of steps cannot call itself}}
}

CLEAVE_ENTRY("POST /ping") int ping(int n) { // expected-note {{'ping' is defined here}}
  int r = pong(n); // expected-error {{recursion through a boundary: 'pong' reaches 'ping' again, and a chain of steps cannot call itself}}
  return r;
}

// A helper that stops at a boundary and calls itself.
CLEAVE_FUNCTION("memory=1024") int cost(int n) { return n * 2; }

int walk(int n) { // expected-note {{'walk' is defined here}}
  if (n <= 0)
    return 0;
  int c = cost(n);
  return c + walk(n - 1); // expected-error {{recursion through a boundary: 'walk' calls itself, and a chain of steps cannot call itself}}
}

CLEAVE_ENTRY("POST /walk") int start(int n) { return walk(n); }
