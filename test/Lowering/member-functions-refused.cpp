// Member functions that reach a boundary run as steps in a member function
// cleave adds to their class (in a header here: header-classes.cpp). The
// object comes back to the caller, so a non-const one is called on
// something the resumed step can name again (a variable of the caller, a
// member or element of one, the caller's own object), not through a
// pointer.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -I%S/Inputs/headers -Xclang -verify

#include <cleave/cleave.h>

#include "counter.h"

#include <map>
#include <vector>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

int Counter::add(int x) {
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
  int r = ts[0].bump(x);
  Pair p;
  r += p.a.bump(x);
  Tally t;
  Tally *ptr = &t;
  r += ptr->bump(x); // expected-error {{'Tally::bump' takes its object by non-const reference, and across a boundary its final value comes back to what the call passed there; call it on a variable of the calling function, or a member or element of one, not through a pointer}}
  std::map<int, Tally> m;
  r += m[x].bump(x); // by key: named again at arrival
  r += m[r++].bump(x); // expected-error {{pass a variable of the calling function, or a member or element of one}}
  // A const member function only reads its object: anything will do.
  r += ts[1].total() + ptr->total();
  return r;
}
