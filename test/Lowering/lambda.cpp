// A boundary call inside a lambda cannot be cut: the lambda's caller could
// not be resumed after it. The error is at the call, with a note at the
// lambda, whether or not the lambda is called.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#include <algorithm>
#include <vector>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /called") int called(int x) {
  auto f = [](int y) { return quote(y); }; // expected-error {{a boundary cannot be reached from inside a lambda: the lambda's caller could not be resumed after it}}
  // expected-note@-1 {{the lambda is here}}
  return f(x);
}

CLEAVE_ENTRY("POST /sorted") std::vector<int> sorted(std::vector<int> xs) {
  std::sort(xs.begin(), xs.end(), [](int a, int b) { // expected-note 2 {{the lambda is here}}
    return quote(a) < quote(b);
    // expected-error@-1 2 {{a boundary cannot be reached from inside a lambda}}
  });
  return xs;
}
