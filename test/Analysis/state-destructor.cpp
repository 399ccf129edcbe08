// State touched only by a destructor, a constructor, a member's destructor,
// a temporary or a deleted object is in the state list of the entry that
// ends the object: the runtime loads it before the entry runs, so the
// destructor (noexcept) never reaches state the invocation did not load.
// RUN: cleave build -q --no-build -o %t %s -- -std=c++17
// RUN: FileCheck %s < %t/manifest.yaml

#include <cleave/cleave.h>

#include <memory>
#include <vector>

CLEAVE_STATE() long opened = 0;
CLEAVE_STATE() long closed = 0;
CLEAVE_STATE() long other = 0;

struct Closer {
  ~Closer() { ++closed; }
};
struct Scope {
  Scope() { ++opened; }
  ~Scope() { ++closed; }
};
struct Holder {
  Closer C;
};

CLEAVE_ENTRY("POST /local") long local() {
  Closer C;
  return 1;
}
// CHECK-LABEL: - name: local
// CHECK:       state:
// CHECK-NEXT:    - {name: closed, access: readwrite}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: scoped

CLEAVE_ENTRY("POST /scoped") long scoped() {
  Scope S;
  return 2;
}
// CHECK:       state:
// CHECK-NEXT:    - {name: closed, access: readwrite}
// CHECK-NEXT:    - {name: opened, access: readwrite}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: member

CLEAVE_ENTRY("POST /member") long member() {
  Holder H;
  return 3;
}
// CHECK:       state:
// CHECK-NEXT:    - {name: closed, access: readwrite}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: temporary

CLEAVE_ENTRY("POST /temporary") long temporary() { return (Closer(), 4); }
// CHECK:       state:
// CHECK-NEXT:    - {name: closed, access: readwrite}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: deleted

CLEAVE_ENTRY("POST /deleted") long deleted() {
  delete new Closer;
  return 5;
}
// CHECK:       state:
// CHECK-NEXT:    - {name: closed, access: readwrite}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: owned

// Ended by the standard library's own code, found in its instantiations.
CLEAVE_ENTRY("POST /owned") long owned() {
  std::vector<Closer> V(2);
  auto P = std::make_unique<Closer>();
  return static_cast<long>(V.size());
}
// CHECK:       state:
// CHECK-NEXT:    - {name: closed, access: readwrite}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: shared

// A std::shared_ptr ends its object in a virtual function of a library
// base, instantiated for Closer: a call the analysis does not follow.
CLEAVE_ENTRY("POST /shared") long shared() {
  auto P = std::make_shared<Closer>();
  return P.use_count();
}
// CHECK:       state:
// CHECK-NEXT:    - {name: closed, access: readwrite}
// CHECK-NEXT:    - {name: opened, access: readwrite}
// CHECK-NEXT:    - {name: other, access: readwrite}
// CHECK-LABEL: - name: plain

CLEAVE_ENTRY("GET /plain") long plain() { return other; }
// CHECK:       state:
// CHECK-NEXT:    - {name: other, access: read}
// CHECK-NOT:     {name:
// CHECK-LABEL: {{^}}state:
