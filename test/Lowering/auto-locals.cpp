// Locals whose type is deduced (auto, decltype) or named by a local alias
// or a local class, around boundaries: declarations stay where they are
// written, so the generated code never spells a deduced type it could get
// wrong. A std::find iterator is rebuilt after the boundary from what it
// was computed from, which does not change.
// RUN: rm -rf %t
// RUN: cleave build -Rcleave -q --no-build -o %t/remarks %s -- -std=c++17 2>&1 | FileCheck %s --check-prefix=REMARK
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest auto-locals: 6 calls agree (6 x 200)

#include <cleave/cleave.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /deduced") std::string deduced(std::string text, std::vector<int> v, int x) {
  auto s = text;
  auto it = std::find(v.begin(), v.end(), x);
  // REMARK: auto-locals.cpp:[[@LINE+1]]:11: remark: 'it' ({{.*}}) is rebuilt after the boundary instead of carried: {{.*}} [-Rcleave]
  int q = quote(x);
  decltype(q) twice = q * 2;
  auto pos = it == v.end() ? -1 : static_cast<int>(it - v.begin());
  int r = quote(twice);
  return s + ":" + std::to_string(pos) + ":" + std::to_string(r);
}

CLEAVE_ENTRY("POST /local") int local(int x) {
  using Row = std::pair<int, std::string>;
  struct Tally {
    int n = 0;
  };
  Row row{x, "r"};
  Tally t;
  t.n = x + 1;
  int before = t.n;
  int q = quote(before);
  return q + row.first + static_cast<int>(row.second.size());
}

// CALL: POST /deduced {"text": "abc", "v": [1, 2, 3], "x": 2}
// CALL: POST /deduced {"text": "", "v": [], "x": 9}
// CALL: POST /deduced {"text": "z", "v": [5, 9], "x": 9}
// CALL: POST /local {"x": 1}
// CALL: POST /local {"x": -4}
// CALL: POST /local {"x": 0}
