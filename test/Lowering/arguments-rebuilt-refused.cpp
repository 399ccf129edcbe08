// Where a class without a default constructor cannot cross: as the element
// of a standard container (its decoder value-initializes each element).
// An entry's parameter, decoded from JSON into a value-initialized object,
// needs one too.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -DENTRY -Xclang -verify

#include <cleave/cleave.h>

#include <vector>

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
// expected-error@+1 {{parameter 'ms' of 'sum' cannot cross a boundary: std::vector<Money>[]: 'Money' has no default constructor}}
long sum(const std::vector<Money> &ms) {
  long s = 0;
  for (const Money &m : ms)
    s += m.cents;
  return s + tax(s);
}

CLEAVE_ENTRY("POST /t") long t(long x) {
  std::vector<Money> ms{Money(x)};
  return sum(ms); // expected-error {{argument 'ms' of 'sum' cannot cross the boundary}}
}
#endif
