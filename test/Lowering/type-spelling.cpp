// Types and names that generated code spells differently from the program:
//   - a return type and a local written with decltype of a parameter, which
//     the generated code has no parameter to name: spelled as the type they
//     stand for;
//   - a class whose template arguments default to a type made of the ones
//     before (`class U = Box<T>`): spelled without them, as the program
//     writes it, not once more per level of nesting;
//   - an entry, a function and state in unnamed namespaces, reached from
//     the global one.
// The deployment answers as the plain program.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest type-spelling: 5 calls agree (5 x 200)
// RUN: FileCheck %s --check-prefix=SPELL < %t/diff/out/src/type-spelling.cpp
// SPELL: {{^}}template <> struct Codec<::W< ::W< ::W<long>>>> {
// SPELL-NOT: Box< ::W< ::W<long>, ::Box
// SPELL-NOT: (anonymous namespace)

#include <cleave/cleave.h>

template <class T> struct Box {
  T v{};
};
template <class T, class U = Box<T>, int N = 2> struct W {
  T t{};
  U u{};
};

namespace {
CLEAVE_STATE() long total = 0;
CLEAVE_FUNCTION("memory=512") long bump(long by) {
  total += by;
  return total;
}
} // namespace

CLEAVE_ENTRY("POST /add") auto add(long x) -> decltype(x + 1) {
  decltype(x * 2) twice = x * 2;
  long r = bump(x);
  return twice + r;
}

namespace {
CLEAVE_ENTRY("POST /nest") long nest(long x) {
  auto w = W<W<W<long>>>{};
  w.t.t.t = x;
  w.u.v.u.v.t = 2 * x;
  long r = bump(1);
  return r + w.t.t.t + w.u.v.u.v.t;
}
} // namespace

// CALL: POST /add {"x": 3}
// CALL: POST /add {"x": -4}
// CALL: POST /nest {"x": 5}
// CALL: POST /nest {"x": 0}
// CALL: POST /add {"x": 10}
