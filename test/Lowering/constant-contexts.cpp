// Calls the C++ compiler evaluates, or never evaluates, are not boundary
// calls, even to a function of another profile: a constexpr variable's
// initializer, a template argument, an array bound, `decltype`, `sizeof`,
// a `static_assert`, a case label, the condition of `if constexpr`. A
// constexpr local is declared again as written in each step. `if
// constexpr` around a boundary keeps its condition a constant.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest constant-contexts: 3 calls agree (3 x 200)

#include <cleave/cleave.h>

#include <array>

CLEAVE_STATE() long calls_ = 0;

CLEAVE_FUNCTION("memory=2048") constexpr int cq(int x) { return x * 3; }
CLEAVE_FUNCTION("memory=2048") int quote(int x) {
  ++calls_;
  return x * 3;
}

static_assert(cq(2) == 6);

template <int N> struct Fixed {
  static constexpr int value = N;
};

CLEAVE_ENTRY("POST /a") int a(int x) {
  constexpr int k = cq(2);
  std::array<int, cq(1)> arr{};
  decltype(quote(x)) d = 1;
  int s = sizeof(quote(x));
  if constexpr (cq(1) == 3) {
    d += quote(d);
  } else {
    d -= 1;
  }
  if constexpr (constexpr int m = cq(1); m > 2) {
    d += m + quote(m);
  }
  switch (x) {
  case cq(1):
    d += quote(2);
    break;
  default:
    break;
  }
  arr[0] = Fixed<cq(2)>::value + quote(k);
  return k + static_cast<int>(arr.size()) + d + s + arr[0] + quote(x);
}

CLEAVE_ENTRY("GET /calls") long calls() { return calls_; }

// CALL: POST /a {"x": 3}
// CALL: POST /a {"x": 4}
// CALL: GET /calls {}
