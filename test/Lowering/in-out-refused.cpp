// The argument of a non-const reference parameter of a function that runs
// as steps gets the callee's final value back: a variable of the caller, of
// the parameter's own type, or a member or element of one that the resumed
// step can name again (indices without side effects), passed once.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#include <map>
#include <vector>

struct Base {
  int n = 0;
};
struct Derived : Base {
  int m = 0;
};

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

void bump(int &x) { x += quote(x); }
void grow(Base &b) { b.n += quote(b.n); }
void both(int &x, const int &y) { x += quote(y); }
void pair(int &x, int &y) { x += quote(y); }

struct Box {
  int n = 0;
};

CLEAVE_ENTRY("POST /element") int element(int x) {
  std::vector<int> v(3, x);
  int i = 0;
  bump(v[i++]); // expected-error {{'bump' takes parameter 'x' by non-const reference, and across a boundary its final value comes back to what the call passed there; pass a variable of the calling function, or a member or element of one, whose indices have no side effects}}
  std::map<int, int> m;
  bump(m[x + i++]); // expected-error {{pass a variable of the calling function, or a member or element of one}}
  return v[1] + i;
}

CLEAVE_ENTRY("POST /pointer") int pointer(int x) {
  Box b{x};
  Box *p = &b;
  bump(p->n); // expected-error {{pass a variable of the calling function, or a member or element of one}}
  return b.n;
}

CLEAVE_ENTRY("POST /reference") int reference(int x) {
  int y = x;
  int &r = y;
  bump(r); // expected-error {{pass a variable of the calling function, or a member or element of one}}
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

// A variable of the caller, its own parameter included, a member or an
// element of one, is fine.
CLEAVE_ENTRY("POST /fine") int fine(int x) {
  int y = x;
  bump(y);
  bump(x);
  Box b{x};
  bump(b.n);
  std::vector<int> v(3, x);
  bump(v[y % 3]);
  bump(v.at(1));
  return x + y + b.n + v[0];
}
