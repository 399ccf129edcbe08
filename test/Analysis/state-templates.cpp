// State read or written inside a function template, a member of a class
// template, a generic lambda, a lambda that a standard algorithm calls, or a
// function cleave::parallel_map applies is in the state list of the entry
// that instantiates and calls it.
// RUN: cleave build -q --no-build -o %t %s -- -std=c++17
// RUN: FileCheck %s < %t/manifest.yaml

#include <cleave/cleave.h>

#include <algorithm>
#include <vector>

CLEAVE_STATE() long hits = 0;
CLEAVE_STATE() long boxed = 0;
CLEAVE_STATE() long summed = 0;
CLEAVE_STATE() long generic = 0;
CLEAVE_STATE() long other = 0;
CLEAVE_STATE() long scale = 3;

long scaled(long x) { return x * scale; }

template <class T> T read() { return hits; }

template <class T> struct Box {
  T get() const { return boxed; }
};

CLEAVE_ENTRY("GET /template") long from_template() { return read<long>(); }
// CHECK-LABEL: - name: from_template
// CHECK:       state:
// CHECK-NEXT:    - {name: hits, access: read}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: from_member

CLEAVE_ENTRY("GET /member") int from_member() { return Box<int>().get(); }
// CHECK:       state:
// CHECK-NEXT:    - {name: boxed, access: read}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: from_algorithm

CLEAVE_ENTRY("POST /algorithm") long from_algorithm(std::vector<long> xs) {
  std::for_each(xs.begin(), xs.end(), [](long x) { summed += x; });
  return static_cast<long>(xs.size());
}
// CHECK:       state:
// CHECK-NEXT:    - {name: summed, access: readwrite}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: from_generic_lambda

CLEAVE_ENTRY("POST /generic") long from_generic_lambda(long n) {
  auto add = [](auto v) { generic += v; return generic; };
  return add(n);
}
// CHECK:       state:
// CHECK-NEXT:    - {name: generic, access: readwrite}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: fan_out

// cleave::parallel_map over a named function runs that function, though
// its plain definition calls it through a reference.
CLEAVE_ENTRY("POST /fanout") std::vector<long> fan_out(std::vector<long> xs) {
  return cleave::parallel_map(xs, scaled);
}
// CHECK:       state:
// CHECK-NEXT:    - {name: scale, access: read}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: scaled
// CHECK:       state:
// CHECK-NEXT:    - {name: scale, access: read}
// CHECK-NOT:     {name:
// CHECK-LABEL: {{^}}state:
