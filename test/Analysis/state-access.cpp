// How each use of state is classified: read, write, or both.
// RUN: cleave build -q --no-build -o %t %s -- -std=c++17
// RUN: FileCheck %s < %t/manifest.yaml

#include <cleave/cleave.h>

#include <map>
#include <string>
#include <vector>

CLEAVE_STATE() long counter = 0;
CLEAVE_STATE() std::map<std::string, int> m;
CLEAVE_STATE() std::vector<int> v;

CLEAVE_ENTRY("GET /r1") long r1() { return counter + 1; }
// CHECK-LABEL: name: r1
// CHECK:       - {name: counter, access: read}

CLEAVE_ENTRY("GET /r2") int r2(std::string k) {
  return m.count(k) ? m.at(k) + (int)m.size() + v[0] : 0;
}
// CHECK-LABEL: name: r2
// CHECK:       - {name: m, access: read}
// CHECK-NEXT:  - {name: v, access: read}

CLEAVE_ENTRY("POST /w1") void w1(long x) { counter = x; }
// CHECK-LABEL: name: w1
// CHECK:       - {name: counter, access: write}

CLEAVE_ENTRY("POST /w2") void w2(std::string k) { ++m[k]; v.push_back(1); m.at(k) = 3; }
// CHECK-LABEL: name: w2
// CHECK:       - {name: m, access: readwrite}
// CHECK-NEXT:  - {name: v, access: readwrite}

static void touch(long &c) { c += 1; }
CLEAVE_ENTRY("POST /w3") long w3() { touch(counter); return sizeof(counter); }
// CHECK-LABEL: name: w3
// CHECK:       - {name: counter, access: readwrite}

CLEAVE_ENTRY("GET /r3") int r3() {
  int sum = 0;
  for (int x : v) sum += x;
  const auto &ref = m;
  return sum + (int)ref.size();
}
// CHECK-LABEL: name: r3
// CHECK:       - {name: m, access: read}
// CHECK-NEXT:  - {name: v, access: read}

// A call the analysis cannot follow may reach any state.
static long bump() { return ++counter; }
CLEAVE_ENTRY("POST /indirect") long indirect() {
  long (*fn)() = bump;
  return fn();
}
// CHECK-LABEL: name: indirect
// CHECK:       - {name: counter, access: readwrite}
// CHECK-NEXT:  - {name: m, access: readwrite}
// CHECK-NEXT:  - {name: v, access: readwrite}

struct Shape { virtual int sides() const = 0; virtual ~Shape() = default; };
CLEAVE_ENTRY("GET /virtual") int virt() {
  struct Tri : Shape { int sides() const override { return (int)v.size(); } } t;
  const Shape &s = t;
  return s.sides();
}
// CHECK-LABEL: name: virt
// CHECK:       - {name: counter, access: readwrite}
// CHECK-NEXT:  - {name: m, access: readwrite}
// CHECK-NEXT:  - {name: v, access: readwrite}

CLEAVE_ENTRY("GET /none") int none() { return (int)sizeof(counter); }
// CHECK-LABEL: name: none
// CHECK-NOT:   state:
// CHECK-LABEL: {{^}}state:
