// Where a class without a default constructor cannot cross: as a member of
// a std::pair, std::tuple, std::variant or std::array, which are decoded
// into value-initialized members (a container, an optional or a
// unique_ptr rebuilds it: arguments-rebuilt.cpp).
// An entry's parameter, decoded from JSON into a value-initialized object,
// needs one too.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -DENTRY -Xclang -verify

#include <cleave/cleave.h>

#include <utility>

struct Money {
#ifdef ENTRY
  // expected-note@-2 {{declared here}}
#else
  // expected-note@-4 2 {{declared here}}
#endif
  explicit Money(long c) : cents(c) {}
  long cents;
};

CLEAVE_FUNCTION("memory=2048") long tax(long x) { return x / 10; }

#ifdef ENTRY
// expected-error@+1 {{parameter 'm' of entry 'pay' cannot be serialized: 'Money' has no default constructor}}
CLEAVE_ENTRY("POST /pay") long pay(Money m) { return m.cents + tax(m.cents); }
#else
// expected-error@+1 {{parameter 'ms' of 'sum' cannot cross a boundary: std::pair<Money, int>.first: 'Money' has no default constructor}}
long sum(const std::pair<Money, int> &ms) {
  long s = ms.first.cents * ms.second;
  return s + tax(s);
}

CLEAVE_ENTRY("POST /t") long t(long x) {
  std::pair<Money, int> ms{Money(x), 2};
  return sum(ms); // expected-error {{argument 'ms' of 'sum' cannot cross the boundary}}
}
#endif
