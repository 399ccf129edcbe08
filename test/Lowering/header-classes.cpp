// Member functions of a class defined in a header run as steps: cleave adds
// their machines to the class in its copy of the header, and points every
// #include on the way there at a copy (shop.h includes counter.h; the source
// includes both, by <...> and "..."). The other includes of a copy find the
// files they found before.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include --flag=-I%S/Inputs/headers | FileCheck %s
// CHECK: difftest header-classes: 4 calls agree (4 x 200)

#include <cleave/cleave.h>
#include <shop/shop.h>
#include "shop/counter.h"

CLEAVE_STATE() long log_ = 0;

CLEAVE_FUNCTION("memory=2048") long quote(long x) {
  log_ += x;
  return x * 3;
}

namespace shop {
long Counter::add(long x) {
  long q = quote(x);
  total_ += q;
  seen_.push_back(Money{q});
  return q + static_cast<long>(seen_.size()) +
         static_cast<long>(name_.size());
}
long Counter::total() const { return total_ + quote(1); }
long Counter::scaled(long x) { return quote(x) * 2; }
long Counter::Till::take(long x) {
  held += quote(x);
  return held;
}
} // namespace shop

CLEAVE_ENTRY("POST /t") long t(long x) {
  shop::Counter c("c");
  long a = c.add(x);
  long b = c.add(x + 1);
  shop::Counter::Till till;
  till.take(x);
  return a * 1000 + b + c.total() + shop::Counter::scaled(x) + till.take(2) +
         log_;
}
CLEAVE_ENTRY("GET /log") long log() { return log_; }
// CALL: POST /t {"x": 2}
// CALL: POST /t {"x": 5}
// CALL: GET /log {}
// CALL: POST /t {"x": -4}
