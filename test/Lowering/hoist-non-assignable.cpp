// A local declared before a boundary in the same block is hoisted: declared
// with {} at the top of the machine and assigned where it was declared. A
// local without a default constructor or an assignment operator (a lock, a
// mutex) cannot be; that is an error at its declaration, also when it is
// dead after the call, not generated C++ that does not compile.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#include <mutex>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

std::mutex global_mu;

CLEAVE_ENTRY("POST /lock") int lock(int x) {
  std::lock_guard<std::mutex> guard(global_mu); // expected-error-re {{'guard' {{.*}}}}
  int q = quote(x); // expected-note {{the boundary is here}}
  return q;
}

CLEAVE_ENTRY("POST /mutex") int mutex(int x) {
  std::mutex mu; // expected-error-re {{'mu' {{.*}}}}
  mu.lock();
  mu.unlock();
  int q = quote(x); // expected-note {{the boundary is here}}
  return q;
}
