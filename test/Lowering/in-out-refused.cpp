// The argument of a non-const reference parameter of a function that runs
// as steps gets the callee's final value back whole, so it must be a
// variable of the caller, of the parameter's own type, passed once.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#include <vector>

struct Base {
  int n = 0;
};
struct Derived : Base {
  int m = 0;
};

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

void bump(int &x) { x += quote(x); } // expected-note 3 {{the parameter is declared here}}
void grow(Base &b) { b.n += quote(b.n); } // expected-note {{the parameter is declared here}}
void both(int &x, const int &y) { x += quote(y); } // expected-note {{the parameter is declared here}}
void pair(int &x, int &y) { x += quote(y); } // expected-note 2 {{the parameter is declared here}}

struct Box {
  int n = 0;
};

CLEAVE_ENTRY("POST /element") int element(int x) {
  std::vector<int> v(3, x);
  bump(v[1]); // expected-error {{'bump' takes parameter 'x' by non-const reference, and across a boundary its final value comes back to the variable passed there; pass a variable of the calling function, not an element, a member or a reference}}
  return v[1];
}

CLEAVE_ENTRY("POST /member") int member(int x) {
  Box b{x};
  bump(b.n); // expected-error {{pass a variable of the calling function}}
  return b.n;
}

CLEAVE_ENTRY("POST /reference") int reference(int x) {
  int y = x;
  int &r = y;
  bump(r); // expected-error {{pass a variable of the calling function}}
  return y;
}

CLEAVE_ENTRY("POST /sliced") int sliced(int x) {
  Derived d;
  d.n = x;
  grow(d); // expected-error {{'d' is a 'Derived', and only a variable of the parameter's own type comes back whole}}
  return d.n + d.m;
}

CLEAVE_ENTRY("POST /twice") int twice(int x) {
  int a = x;
  both(a, a); // expected-error {{'a' is passed to it more than once}}
  int b = x;
  pair(b, b); // expected-error 2 {{'b' is passed to it more than once}}
  return a + b;
}

// A variable of the caller, its own parameter included, is fine.
CLEAVE_ENTRY("POST /fine") int fine(int x) {
  int y = x;
  bump(y);
  bump(x);
  return x + y;
}
