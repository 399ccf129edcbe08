// Member functions that reach a boundary run as steps in a member function
// cleave adds to their class in the source it rewrites: the class must be
// defined in that source. The object comes back to
// the caller, so a non-const one is called on a variable of the caller (or
// on the caller's own object), not on an element, a member or a pointer.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -I%S/Inputs/members -Xclang -verify

#include <cleave/cleave.h>

#include "counter.h"

#include <vector>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

// expected-note@counter.h:6 {{the class is defined here}}
int Counter::add(int x) { // expected-error {{'Counter::add' would run as steps, but its class is defined in a header, and its machine is a member function that cleave adds to the class in the source files it rewrites; define the class in a source file given to cleave build, or move the code that reaches the boundary into a free function}}
  n += quote(x);
  return n;
}

struct Tally {
  int n = 0;
  int bump(int x) {
    n += quote(x);
    return n;
  }
  int total() const { return n + quote(0); }
};

struct Pair {
  Tally a;
};

CLEAVE_ENTRY("POST /header") int header(int x) {
  Counter c;
  return c.add(x);
}

CLEAVE_ENTRY("POST /element") int element(int x) {
  std::vector<Tally> ts(2);
  int r = ts[0].bump(x); // expected-error {{'Tally::bump' runs as steps, and its object crosses the boundary; its changes come back to the object, so call it on a variable of the calling function of class 'Tally', not on an element, a member, a pointer or a reference}}
  Pair p;
  r += p.a.bump(x); // expected-error {{call it on a variable of the calling function}}
  Tally t;
  Tally *ptr = &t;
  r += ptr->bump(x); // expected-error {{call it on a variable of the calling function}}
  // A const member function only reads its object: anything will do.
  r += ts[1].total() + ptr->total();
  return r;
}
