// Locals that were refused before a boundary for reasons C++ does not give:
// std::pair, std::tuple and std::unique_ptr locals dead at the boundary, a
// class without a default constructor, and a std::regex built from a
// literal and used after the boundary, which is rebuilt there (-Rcleave
// says so) because a regex cannot travel; several variables in one
// declaration, and references bound with parentheses or braces, alive
// across the boundary.
// RUN: rm -rf %t
// RUN: cleave build -Rcleave -q --no-build -o %t/remarks %s -- -std=c++17 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest spurious-refusals: 11 calls agree (11 x 200)

#include <cleave/cleave.h>

#include <memory>
#include <regex>
#include <string>
#include <tuple>
#include <utility>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /dead") int dead(int x) {
  std::pair<int, std::string> p{x, "p"};
  std::tuple<int, double, std::string> t{x, 0.5, "t"};
  std::unique_ptr<int> u = std::make_unique<int>(x + 1);
  int sum = p.first + std::get<0>(t) + *u;
  int q = quote(sum);
  return q;
}

struct Meter {
  explicit Meter(int start) : reading(start) {}
  int reading;
};

CLEAVE_ENTRY("POST /meter") int meter(int x) {
  Meter m(x);
  m.reading += 2;
  int before = m.reading;
  int q = quote(before);
  return q + before;
}

CLEAVE_ENTRY("POST /digits") int digits(std::string text) {
  const std::regex number(R"(\d+)");
  int q = quote(static_cast<int>(text.size()));
  // REMARK: spurious-refusals.cpp:[[@LINE-1]]:11: remark: 'number' (std::regex) is rebuilt after the boundary instead of carried: {{.*}} [-Rcleave]
  int found = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), number), end; it != end; ++it)
    ++found;
  return q * 100 + found;
}

CLEAVE_ENTRY("POST /declarators") std::string declarators(int x) {
  int a = x, *unused = nullptr, b = quote(a), c[2] = {1, 2};
  std::string s(3, 'z'), t = "t";
  const std::string &r(s), &u(t);
  const std::string &v{s};
  int q = quote(a + b + c[1]);
  return r + u + v + std::to_string(q + a + b);
}

// A C array that never changes is rebuilt from what it was made of: here
// the range of a range-for around the boundary.
CLEAVE_ENTRY("POST /carray") int carray(int x) {
  int parts[3] = {x, x + 1, x + 2};
  int acc = 0;
  for (int p : parts)
    acc += quote(p);
  return acc + parts[2];
}

CLEAVE_ENTRY("POST /ifinit") int ifinit(int x) {
  if (int a = x + 1, b = quote(a); a < b)
    return a * 1000 + b;
  for (int i = quote(x), j = i + 1; i < j; ++i)
    x += i;
  return x;
}

// CALL: POST /declarators {"x": 5}
// CALL: POST /carray {"x": 4}
// CALL: POST /ifinit {"x": 2}
// CALL: POST /ifinit {"x": -3}
// CALL: POST /dead {"x": 4}
// CALL: POST /dead {"x": -1}
// CALL: POST /meter {"x": 2}
// CALL: POST /meter {"x": 0}
// CALL: POST /digits {"text": "a1 b22 c333"}
// CALL: POST /digits {"text": ""}
// CALL: POST /digits {"text": "none"}
