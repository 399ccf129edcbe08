// A boundary call that leaves out arguments with defaults: a constant
// default (a number, a truth value, an enumerator, a string literal) is
// passed as the call would pass it. A default that is not a constant is
// refused with a located error (default-arguments-refused.cpp).
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest default-arguments: 3 calls agree (3 x 200)

#include <cleave/cleave.h>

#include <cstdint>
#include <string>

enum class Mode { Plain, Loud };

CLEAVE_FUNCTION("memory=2048")
std::string render(int x, double scale = 0.1, bool upper = true,
                   Mode m = Mode::Loud, std::string tag = "t\"1",
                   std::int64_t low = -9223372036854775807LL - 1,
                   unsigned long long high = 18446744073709551615ULL) {
  std::string s = tag + ":" + std::to_string(x * scale) + (upper ? "U" : "u") +
                  (m == Mode::Loud ? "!" : ".") + std::to_string(low) + "/" +
                  std::to_string(high);
  return s;
}

CLEAVE_ENTRY("POST /all") std::string all(int x) {
  std::string a = render(x);
  std::string b = render(x, 2.5);
  std::string c = render(x, 1.0, false, Mode::Plain, "v");
  return a + "|" + b + "|" + c;
}

// CALL: POST /all {"x": 3}
// CALL: POST /all {"x": -7}
// CALL: POST /all {"x": 0}
