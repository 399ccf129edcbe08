// A range-for around a boundary over every standard container, resumed by a
// position that survives the frame: an index for sequences, the key for
// std::map and std::set, the keys still to visit for unordered containers.
// Structured bindings, break and continue work as in the plain program.
// RUN: rm -rf %t
// RUN: cleave build -Rcleave -q --no-build -o %t/remarks %s -- -std=c++17 2>&1 | grep cross | FileCheck %s --check-prefix=CARRY
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest range-for-containers: 10 calls agree (10 x 200)

#include <cleave/cleave.h>

#include <deque>
#include <list>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

CLEAVE_FUNCTION("memory=2048") int price(const std::string &sku) {
  return static_cast<int>(sku.size()) * 10 + 1;
}
CLEAVE_FUNCTION("memory=2048") int twice(int x) { return 2 * x; }

CLEAVE_ENTRY("POST /basket") int basket(std::map<std::string, int> lines) {
  int total = 0;
  for (const auto &[sku, qty] : lines) {
    if (qty == 0)
      continue;
    total += price(sku) * qty;
    // CARRY: range-for-containers.cpp:[[@LINE-1]]:14: remark: 3 values cross the boundary at {{.*}}: lines (std::map<std::string, int>), total (int), [sku, qty].key (key) [-Rcleave]
    if (total > 1000)
      break;
  }
  return total;
}

CLEAVE_ENTRY("POST /set") int set(std::vector<int> xs) {
  std::set<int> s(xs.begin(), xs.end());
  int total = 0;
  for (int x : s)
    total = total * 3 + twice(x);
  return total;
}

CLEAVE_ENTRY("POST /hashed") int hashed(std::map<std::string, int> in) {
  std::unordered_map<std::string, int> m(in.begin(), in.end());
  int total = 0;
  for (auto &kv : m) {
    kv.second = twice(kv.second);
    total += kv.second;
  }
  int check = 0;
  for (const auto &[k, v] : m)
    check += v * static_cast<int>(k.size());
  return total * 1000 + check;
}

CLEAVE_ENTRY("POST /seq") int seq(std::vector<int> xs) {
  std::deque<int> d(xs.begin(), xs.end());
  std::list<int> l(xs.rbegin(), xs.rend());
  int total = 0;
  for (int x : d)
    total = total * 2 + twice(x);
  for (int &x : l) {
    x = twice(x) + 1;
    total += x;
  }
  return total + static_cast<int>(l.size());
}

// CALL: POST /basket {"lines": {"apple": 2, "kiwi": 0, "pear": 3}}
// CALL: POST /basket {"lines": {}}
// CALL: POST /basket {"lines": {"a": 50, "bb": 1000, "c": 1}}
// CALL: POST /set {"xs": [5, 1, 5, 3]}
// CALL: POST /set {"xs": []}
// CALL: POST /hashed {"in": {"x": 1, "yy": 2, "zzz": 3}}
// CALL: POST /hashed {"in": {}}
// CALL: POST /seq {"xs": [1, 2, 3]}
// CALL: POST /seq {"xs": []}
// CALL: POST /seq {"xs": [7]}
