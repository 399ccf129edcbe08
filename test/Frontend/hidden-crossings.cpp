// A call to a function of another profile that the program makes where
// cleave sees no call of its own (a constructor or destructor, a default
// argument, a default member initializer, a header's function) cannot be
// cut there: it is an error, with the call shown, never a call that runs
// silently in the caller's process. The same calls to a function of the
// caller's own profile are fine.
// RUN: rm -rf %t
// RUN: not cleave build --no-build -o %t %s -- -std=c++17 -I%S/Inputs 2>&1 | FileCheck %s --implicit-check-not=error:

#include <cleave/cleave.h>

#include "pricing.h"

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }
CLEAVE_FUNCTION() int same(int x) { return x + 1; }

struct Priced {
  Priced() : price(quote(1)) {}
  int price;
};

struct Logged {
  ~Logged() { quote(2); }
};

struct Defaulted {
  int price = quote(3);
  int plain = same(3);
};

int with_default(int x = quote(4)) { return x; }
int with_plain(int x = same(4)) { return x; }

CLEAVE_ENTRY("GET /ctor") int by_constructor() {
  Priced p;
  // CHECK: hidden-crossings.cpp:[[@LINE-1]]:10: error: 'quote' runs as its own function (memory 2048 MiB vs 256 MiB), but 'by_constructor' reaches it through the constructor of 'Priced', where cleave cannot cut the code; call it in 'by_constructor' itself, where the value is needed
  // CHECK: hidden-crossings.cpp:18:20: note: 'quote' is called here
  return p.price;
}

CLEAVE_ENTRY("GET /dtor") int by_destructor() {
  Logged l;
  // CHECK: hidden-crossings.cpp:[[@LINE-1]]:10: error: 'quote' runs as its own function (memory 2048 MiB vs 256 MiB), but 'by_destructor' reaches it through the destructor of 'Logged'
  return same(1);
}

CLEAVE_ENTRY("GET /member") int by_member_initializer() {
  Defaulted d{};
  // CHECK: hidden-crossings.cpp:[[@LINE-1]]:15: error: 'quote' runs as its own function (memory 2048 MiB vs 256 MiB), but 'by_member_initializer' reaches it through the default member initializer of 'Defaulted::price'
  return d.price + d.plain;
}

CLEAVE_ENTRY("GET /default") int by_default_argument() {
  return with_default() + with_plain();
  // CHECK: hidden-crossings.cpp:[[@LINE-1]]:10: error: 'quote' runs as its own function (memory 2048 MiB vs 256 MiB), but 'by_default_argument' reaches it through a default argument of 'with_default'
}

CLEAVE_ENTRY("GET /header") int by_header_function() {
  return price_with_tax(5);
  // CHECK: hidden-crossings.cpp:[[@LINE-1]]:10: error: 'quote' runs as its own function (memory 2048 MiB vs 256 MiB), but 'by_header_function' reaches it through 'price_with_tax', which is defined in pricing.h
  // CHECK: pricing.h:5:43: note: 'quote' is called here
}

// A helper the entry calls runs in the entry's unit: its hidden calls too.
int helper() {
  Priced p;
  // CHECK: hidden-crossings.cpp:[[@LINE-1]]:10: error: 'quote' runs as its own function (memory 2048 MiB vs 256 MiB), but 'helper' reaches it through the constructor of 'Priced'
  return p.price;
}
CLEAVE_ENTRY("GET /helper") int by_helper() { return helper(); }

// Never reached from an entry or a function of another profile: fine.
int unused() {
  Priced p;
  return p.price;
}

// The same profile: it stays local, wherever it is called from.
struct Cheap {
  int v = same(9);
};
CLEAVE_ENTRY("GET /fine") int fine() { Cheap c; return c.v + with_plain(); }
