// A standard object that holds something (a lock, a thread, an open file)
// and is alive across a boundary cannot be: the step ends while the callee
// runs elsewhere, and its destructor would give the resource back at the
// wrong time. The error is at its declaration, with a note at the boundary.
// A std::mutex that nothing uses after the boundary is fine.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#include <mutex>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

std::mutex global_mu;

CLEAVE_ENTRY("POST /lock") int lock(int x) {
  std::lock_guard<std::mutex> guard(global_mu); // expected-error {{'guard' (std::lock_guard<std::mutex>) is alive across the boundary and its destructor has effects, but it cannot be carried across it: it holds a lock, which cannot be held while another function runs}} expected-note {{'guard' is declared here}}
  int q = quote(x); // expected-note {{the boundary: 'quote' runs as its own function}}
  return q;
}

CLEAVE_ENTRY("POST /mutex") int mutex(int x) {
  std::mutex mu;
  mu.lock();
  mu.unlock();
  int q = quote(x);
  return q;
}
