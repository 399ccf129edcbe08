// State read in a default argument, a default member initializer, or a
// constructor's member initializer is in the state list of the entry that
// evaluates it.
// RUN: cleave build -q --no-build -o %t %s -- -std=c++17
// RUN: FileCheck %s < %t/manifest.yaml

#include <cleave/cleave.h>

CLEAVE_STATE() int default_qty = 1;
CLEAVE_STATE() int default_member = 2;
CLEAVE_STATE() int init_member = 3;
CLEAVE_STATE() int other = 4;

int order(int qty = default_qty) { return qty * 10; }

struct Line {
  int qty = default_member;
};

struct Built {
  Built() : qty(init_member) {}
  int qty;
};

CLEAVE_ENTRY("POST /argument") int with_default() { return order(); }
// CHECK-LABEL: - name: with_default
// CHECK:       state:
// CHECK-NEXT:    - {name: default_qty, access: read}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: with_initializer

CLEAVE_ENTRY("POST /initializer") int with_initializer() { return Line().qty; }
// CHECK:       state:
// CHECK-NEXT:    - {name: default_member, access: read}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: aggregate

CLEAVE_ENTRY("POST /aggregate") int aggregate() {
  Line L{};
  return L.qty;
}
// CHECK:       state:
// CHECK-NEXT:    - {name: default_member, access: read}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: with_constructor

CLEAVE_ENTRY("POST /constructor") int with_constructor() { return Built().qty; }
// CHECK:       state:
// CHECK-NEXT:    - {name: init_member, access: read}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: given

// An argument given explicitly: the default is not evaluated.
CLEAVE_ENTRY("POST /given") int given() { return order(other); }
// CHECK:       state:
// CHECK-NEXT:    - {name: other, access: read}
// CHECK-NOT:     {name:
// CHECK-LABEL: {{^}}state:
