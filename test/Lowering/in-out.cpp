// Parameters taken by non-const reference in functions cut into steps. The
// argument is copied in with the call, and the callee's final value comes
// back to the caller's variable when it returns or throws (copy-in,
// copy-out): a helper that fills in an order, a boundary function that
// changes its argument, in-out parameters passed on to other in-out
// parameters, in loops and try blocks, with objects whose destructor has
// effects. A variable comes back whole: it is neither default-constructed
// nor assigned.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest in-out: 19 calls agree (18 x 200, 1 x 500)

#include <cleave/cleave.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

CLEAVE_STATE() std::string log_ = "";

struct Order {
  std::string sku;
  int qty = 0;
  double total = 0;
  std::vector<std::string> notes;
};

CLEAVE_FUNCTION("memory=2048") int quote(int x) {
  log_ += "q" + std::to_string(x) + ";";
  if (x > 1000)
    throw std::out_of_range("too many");
  return x * 3;
}

// A boundary function that changes its argument, without steps of its own.
CLEAVE_FUNCTION("memory=2048") void stamp(Order &o, int by) {
  o.notes.push_back("stamp" + std::to_string(by));
  o.qty += by;
}

// A helper that reaches a boundary: it runs as steps of its own.
void price(Order &o) {
  o.total = quote(o.qty) * 1.5;
  o.notes.push_back("priced");
}

// In-out parameters passed on, twice, and changed around the boundaries.
void twice(Order &o, int &n) {
  price(o);
  n += quote(n);
  price(o);
  o.notes.push_back("n=" + std::to_string(n));
}

// Throws after changing its argument: the change reaches the caller's
// handler, as in the plain program.
void risky(Order &o, int &count) {
  ++count;
  o.qty = quote(o.qty) + 2000;
  ++count;
  o.total = quote(o.qty);
}

std::string show(const Order &o) {
  std::string s = o.sku + ":" + std::to_string(o.qty) + ":" +
                  std::to_string(o.total);
  for (const std::string &k : o.notes)
    s += "," + k;
  return s;
}

CLEAVE_ENTRY("POST /fill") std::string fill(int x) {
  Order o{"a", x};
  price(o);
  int n = x;
  twice(o, n);
  stamp(o, 4);
  return show(o) + "|" + std::to_string(n);
}

CLEAVE_ENTRY("POST /loop") std::string loop(int x) {
  std::map<std::string, int> seen;
  Order o{"b", 1};
  for (int i = 0; i < x; ++i) {
    stamp(o, i);
    if (i % 2)
      price(o);
    seen[o.sku] += o.qty;
  }
  return show(o) + "|" + std::to_string(seen["b"]);
}

CLEAVE_ENTRY("POST /caught") std::string caught(int x) {
  Order o{"c", x};
  int count = 0;
  try {
    risky(o, count);
  } catch (const std::exception &e) {
    o.notes.push_back(e.what());
  }
  return show(o) + "|" + std::to_string(count);
}

// Uncaught: 500, and the writes before it stay.
CLEAVE_ENTRY("POST /uncaught") int uncaught(int x) {
  Order o{"d", x + 1000};
  price(o);
  return o.qty;
}

struct Tally {
  int n = 0;
  ~Tally() { log_ += "tally" + std::to_string(n) + ";"; }
};

void bump(Tally &t, int by) { t.n += quote(by); }

// An object whose destructor has effects comes back whole: its destructor
// runs once, in the caller, at the end of its scope.
CLEAVE_ENTRY("POST /tally") int tally(int x) {
  Tally t;
  bump(t, x);
  bump(t, x + 1);
  return t.n;
}

// By value, the callee's parameter is destroyed once, at its end; by const
// reference, it names the caller's object, which only the caller destroys.
CLEAVE_FUNCTION("memory=2048") int peekValue(Tally t) { return t.n + 1; }
CLEAVE_FUNCTION("memory=2048") int peekRef(const Tally &t) { return t.n + 2; }

CLEAVE_ENTRY("POST /pass") int pass(int x) {
  Tally t;
  t.n = x;
  int a = peekValue(t);
  int b = peekRef(t);
  return a + b;
}

// Members and elements passed to in-out parameters are named again when
// the step resumes, and given the callee's final value in place, also when
// the callee throws.
struct Basket {
  Order first;
  std::vector<Order> rest;
};

CLEAVE_ENTRY("POST /places") std::string places(int x) {
  Basket b{Order{"p", x}, {Order{"r0", x + 1}, Order{"r1", x + 2}}};
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 2; ++i) {
    price(b.rest[i]);
    stamp(b.rest.at(i), i);
  }
  price(b.first);
  int n = 0;
  try {
    risky(b.rest[1], counts[n % 3]);
  } catch (const std::exception &e) {
    b.first.notes.push_back(e.what());
  }
  return show(b.first) + "|" + show(b.rest[0]) + "|" + show(b.rest[1]) + "|" +
         std::to_string(counts[0]);
}

// Values of maps by key: `m[k]` inserts a missing key once, where the call
// is evaluated, as in the plain program.
CLEAVE_ENTRY("POST /keys") std::string keys(int x) {
  std::map<std::string, Order> orders;
  orders["a"] = Order{"a", x};
  price(orders["a"]);
  price(orders["b"]);
  stamp(orders.at("a"), 2);
  std::map<int, int> counts;
  int n = x;
  twice(orders["c"], counts[x % 4]);
  std::string out;
  for (const auto &[k, o] : orders)
    out += k + ":" + show(o) + ";";
  for (const auto &[k, c] : counts)
    out += std::to_string(k) + "=" + std::to_string(c) + ";";
  return out + std::to_string(n);
}

// A class whose default constructor counts: a parameter is the caller's
// argument, rebuilt from the frame, never default-constructed.
int made = 0;
struct Counted {
  long v = 0;
  Counted() { ++made; }
  long step(int x) {
    v += quote(x);
    return v;
  }
};
void inc(Counted &c) { c.v += quote(1); }
CLEAVE_FUNCTION("memory=2048") int look(const Counted &c) { return c.v + 1; }
CLEAVE_FUNCTION("memory=2048") int byValue(Counted c) { return c.v + 2; }

CLEAVE_ENTRY("POST /counted") int counted(int x) {
  made = 0;
  Counted c;
  c.step(x);
  inc(c);
  int r = look(c) + byValue(c);
  return made * 1000 + r;
}

CLEAVE_ENTRY("GET /log") std::string log() { return log_; }

// CALL: POST /fill {"x": 2}
// CALL: POST /fill {"x": 7}
// CALL: POST /loop {"x": 4}
// CALL: POST /loop {"x": 0}
// CALL: POST /caught {"x": 5}
// CALL: POST /caught {"x": 1}
// CALL: GET /log {}
// CALL: POST /uncaught {"x": 3}
// CALL: POST /tally {"x": 3}
// CALL: POST /tally {"x": 0}
// CALL: GET /log {}
// CALL: POST /fill {"x": 0}
// CALL: POST /pass {"x": 8}
// CALL: POST /places {"x": 3}
// CALL: POST /places {"x": 600}
// CALL: POST /keys {"x": 3}
// CALL: POST /keys {"x": 6}
// CALL: POST /counted {"x": 4}
// CALL: GET /log {}
