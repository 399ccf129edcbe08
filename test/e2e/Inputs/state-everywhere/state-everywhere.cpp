//===- state-everywhere.cpp - State touched wherever C++ allows -----------===//
//
// An end-to-end program for test/e2e/state-everywhere.test: every entry
// reads and writes state in one place the deployment must handle as the
// plain program does: a header, a macro, a function template, a member of a
// class template, a constructor, a destructor (the only place that entry
// touches that state), a default argument, a default member initializer, a
// lambda, a virtual call, a function pointer and a std::function. A map
// used by key keeps its per-key storage. GET /snapshot answers every value,
// so the state left behind is compared too.
//
//===----------------------------------------------------------------------===//

#include "state-everywhere.h"

#include <functional>
#include <map>
#include <stdexcept>
#include <string>

// Defined without the annotation: the header's declaration carries it.
long visits = 0;
std::map<std::string, long> tags = {{"seed", 5}};
CLEAVE_STATE() long tally = 0;
CLEAVE_STATE() long hits = 0;
CLEAVE_STATE() long boxed = 0;
CLEAVE_STATE() long opened = 0;
CLEAVE_STATE() long closed = 0;
CLEAVE_STATE() int default_qty = 2;
CLEAVE_STATE() long ordered = 0;
CLEAVE_STATE() long lambdas = 0;
CLEAVE_STATE() long areas = 0;
CLEAVE_STATE() long pointed = 0;
CLEAVE_STATE() long functions = 0;
CLEAVE_STATE() std::map<std::string, long> shelves = {{"apple", 3}};
CLEAVE_STATE() long stamped = 0;

struct Snapshot {
  long visits = 0;
  std::map<std::string, long> tags;
  long tally = 0;
  long hits = 0;
  long boxed = 0;
  long opened = 0;
  long closed = 0;
  int default_qty = 0;
  long ordered = 0;
  long lambdas = 0;
  long areas = 0;
  long pointed = 0;
  long functions = 0;
  long apples = 0;
  long stamped = 0;
};

template <class T> T read_hits() { return hits; }
template <class T> void add_hits(T N) { hits += N; }

template <class T> struct Box {
  T get() const { return boxed; }
  void add(T N) { boxed += N; }
};

/// Writes state only when it ends.
struct Closer {
  ~Closer() { ++closed; }
};
struct Scope {
  Scope() { ++opened; }
  ~Scope() { closed += 10; }
};

int order(int qty = default_qty) {
  ordered += qty;
  return qty;
}

struct Line {
  int qty = default_qty;
};

struct Shape {
  virtual ~Shape() = default;
  virtual long area() const = 0;
};
struct Square : Shape {
  explicit Square(long Side) : Side(Side) {}
  long area() const override { return areas += Side * Side; }
  long Side;
};
struct Circle : Shape {
  long area() const override { return areas += 3; }
};

long measure(const Shape &S) { return S.area(); }
long twice(long N) { return pointed += 2 * N; }
long thrice(long N) { return pointed += 3 * N; }

CLEAVE_ENTRY("POST /visit") long visit_twice() {
  visit();
  return visit();
}

CLEAVE_ENTRY("POST /tag") long tag_it(std::string key) { return tag(key); }

CLEAVE_ENTRY("POST /tally") long tally_up(long n) { return TALLY(n); }

CLEAVE_ENTRY("POST /hits") long hit(long n) {
  add_hits<long>(n);
  return read_hits<long>();
}

CLEAVE_ENTRY("POST /box") long box(long n) {
  Box<long> B;
  B.add(n);
  return B.get();
}

CLEAVE_ENTRY("POST /close") long close_one() {
  Closer C;
  return 0;
}

CLEAVE_ENTRY("POST /scope") long scoped(bool fail) {
  Scope S;
  if (fail)
    throw std::runtime_error("refused inside the scope");
  return opened;
}

CLEAVE_ENTRY("POST /default") int with_default(int qty) {
  if (qty > 0)
    default_qty = qty;
  return order() + Line().qty;
}

CLEAVE_ENTRY("POST /lambda") long with_lambda(long n) {
  auto Bump = [&] { lambdas += n; };
  Bump();
  Bump();
  return lambdas;
}

CLEAVE_ENTRY("POST /shape") long shape(long side) {
  Square Sq(side);
  Circle Ci;
  const Shape *S = side > 0 ? static_cast<const Shape *>(&Sq) : &Ci;
  return measure(*S);
}

CLEAVE_ENTRY("POST /pointer") long through_pointer(long n) {
  long (*Op)(long) = n % 2 ? &thrice : &twice;
  return Op(n);
}

CLEAVE_ENTRY("POST /function") long through_function(long n) {
  std::function<long(long)> F = [](long V) { return functions += V; };
  F(n);
  return F(1);
}

CLEAVE_ENTRY("POST /shelf") long shelf(std::string item, long n) {
  shelves[item] += n;
  return shelves.at(item);
}

// A parameter whose constructor writes state: the caller makes it, where
// the state is the program's own, before the entry runs.
struct Stamp {
  Stamp() { ++stamped; }
  std::string label;
};

CLEAVE_ENTRY("POST /stamp") long stamp(Stamp s) {
  return stamped * 100 + static_cast<long>(s.label.size());
}

// The same parameter for an entry cut into steps: made in its first step.
CLEAVE_FUNCTION("memory=2048") long label_length(std::string label) {
  return static_cast<long>(label.size());
}

CLEAVE_ENTRY("POST /stamp_far") long stamp_far(Stamp s) {
  long n = label_length(s.label);
  return stamped * 100 + n;
}

CLEAVE_ENTRY("GET /snapshot") Snapshot snapshot() {
  Snapshot S;
  S.visits = visits;
  S.tags = tags;
  S.tally = tally;
  S.hits = hits;
  S.boxed = boxed;
  S.opened = opened;
  S.closed = closed;
  S.default_qty = default_qty;
  S.ordered = ordered;
  S.lambdas = lambdas;
  S.areas = areas;
  S.pointed = pointed;
  S.functions = functions;
  S.apples = shelves.count("apple") ? shelves.at("apple") : -1;
  S.stamped = stamped;
  return S;
}

int main() { return static_cast<int>(snapshot().visits); }
