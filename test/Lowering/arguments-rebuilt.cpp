// Parameters of functions that are not entries are the caller's arguments:
// a class without a default constructor may be passed to one that runs as
// steps, by value, by const reference and by non-const reference, since it
// is rebuilt from the caller's frame member by member, without a
// constructor of the program's; so is such a class inside a standard
// container, an optional or a unique_ptr, also in a local that lives across
// a boundary. An entry's parameter is decoded from JSON into a
// value-initialized object, so there it needs one (see
// arguments-rebuilt-refused.cpp).
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest arguments-rebuilt: 6 calls agree (6 x 200)

#include <cleave/cleave.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

CLEAVE_STATE() long total_ = 0;
CLEAVE_STATE() long made_ = 0;

struct Money {
  explicit Money(long c) : cents(c) {}
  long cents;
};

// Counts its constructions and destructions in state: each runs as often
// as in the plain program.
struct Tagged {
  explicit Tagged(std::string t) : tag(std::move(t)) { ++made_; }
  Tagged(const Tagged &o) : tag(o.tag) { ++made_; }
  ~Tagged() { made_ += 100; }
  std::string tag;
  std::vector<std::string> history;
};

CLEAVE_FUNCTION("memory=2048") long tax(long x) { return x / 10; }

long withTax(const Money &m) { return m.cents + tax(m.cents); }
void addTax(Money &m) { m.cents += tax(m.cents); }
long byValue(Money m) {
  m.cents += tax(m.cents);
  return m.cents;
}
long tagged(const Tagged &t) {
  return static_cast<long>(t.tag.size() + t.history.size()) + tax(100);
}
void record(Tagged &t, const Money &m) {
  t.history.push_back(std::to_string(tax(m.cents)));
  t.tag += "+";
}
long copied(Tagged t) { return tax(static_cast<long>(t.tag.size()) * 10); }

// An aggregate whose member has no default constructor: neither has one.
struct Line {
  Money price;
  int qty;
};
long lineTotal(const Line &l) { return l.price.cents * l.qty + tax(l.qty); }

CLEAVE_ENTRY("POST /t") long t(long x) {
  Money m(x);
  long a = withTax(m);
  addTax(m);
  long b = byValue(m);
  Tagged g("abc");
  record(g, m);
  long c = tagged(g);
  long d = copied(g);
  Line l{Money(x), 3};
  long e = lineTotal(l);
  total_ += a + b + m.cents + c + d + static_cast<long>(g.history.size()) +
            e + l.price.cents;
  return total_;
}
// Containers of it: their frame decoders rebuild each element.
long sumAll(const std::vector<Money> &ms, const std::map<int, Money> &byId,
            std::optional<Money> &best) {
  long s = 0;
  for (const Money &m : ms)
    s += m.cents;
  for (const auto &[id, m] : byId)
    s += id * m.cents;
  s += tax(s);
  if (!best || best->cents < s)
    best = Money(s);
  return s;
}

CLEAVE_ENTRY("POST /containers") long containers(long x) {
  std::vector<Money> ms{Money(x), Money(2 * x)};
  std::map<int, Money> byId{{1, Money(x)}, {3, Money(5)}};
  std::optional<Money> best;
  auto owned = std::make_unique<Money>(7);
  long a = sumAll(ms, byId, best);
  ms.push_back(Money(tax(a)));
  long b = sumAll(ms, byId, best);
  return a + b + (best ? best->cents : -1) + owned->cents +
         static_cast<long>(ms.size());
}

CLEAVE_ENTRY("GET /made") long made() { return made_ * 1000 + total_; }
// CALL: POST /t {"x": 100}
// CALL: POST /t {"x": 7}
// CALL: GET /made {}
// CALL: POST /t {"x": -55}
// CALL: POST /containers {"x": 40}
// CALL: POST /containers {"x": -3}
