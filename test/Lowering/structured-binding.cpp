// A structured binding declared before a boundary and read after it cannot
// be hoisted. Whether or not its type could travel, the error is the one for
// structured bindings, at the declaration, and names what to do instead;
// it never shows the hidden variable behind the bindings (a nameless '').
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -Xclang -verify

#include <cleave/cleave.h>

#include <string>
#include <utility>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

struct Pair {
  int a = 0;
  std::string b;
};

// The type could travel.
CLEAVE_ENTRY("POST /plain") int plain(Pair p) {
  auto [a, b] = p; // expected-error {{this structured binding is declared before a boundary in the same scope, where a resumed step cannot declare it again; use a plain variable instead of a structured binding}}
  int q = quote(a);
  return q + (int)b.size();
}

// The type could not travel (std::pair has no generated serializer).
CLEAVE_ENTRY("POST /pair") int pair(int x) {
  auto [a, b] = std::make_pair(x, x + 1); // expected-error {{this structured binding is declared before a boundary in the same scope, where a resumed step cannot declare it again; use a plain variable instead of a structured binding}}
  int q = quote(a);
  return q + b;
}
