// Where a call's target cannot be known, the function may touch any state:
// a virtual call, a call through a function pointer or a std::function, a
// function defined in none of the given sources. A library function that
// is given no code of the program and dispatches only through library
// classes the program does not derive from does not count; a virtual call
// of a library class that the program derives from does.
// -Rcleave names the call that decided it.
// RUN: cleave build -q --no-build -Rcleave -o %t %s -- -std=c++17 2> %t.remarks
// RUN: FileCheck %s < %t/manifest.yaml
// RUN: FileCheck %s --check-prefix=REMARK < %t.remarks

#include <cleave/cleave.h>

#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>

CLEAVE_STATE() long a = 0;
CLEAVE_STATE() long b = 0;
CLEAVE_STATE() long c = 0;

struct Shape {
  virtual ~Shape() = default;
  virtual long area() const = 0;
};
struct Square : Shape {
  long area() const override { return a; }
};

long through_virtual(const Shape &S) { return S.area(); }
// REMARK: state-unknown.cpp:[[@LINE-1]]:49: remark: 'virtual_call' may touch every state variable: 'through_virtual' makes a virtual call of 'Shape::area' [-Rcleave]
long get_b() { return b; }
long get_c() { return c; }
long defined_elsewhere();

// A class of the program derived from a library class.
struct Refused : std::runtime_error {
  Refused() : std::runtime_error("refused") {}
  const char *what() const noexcept override { return b ? "b" : "refused"; }
};

CLEAVE_ENTRY("GET /virtual") long virtual_call() {
  Square S;
  return through_virtual(S);
}
// CHECK-LABEL: - name: virtual_call
// CHECK:       state:
// CHECK-NEXT:    - {name: a, access: readwrite}
// CHECK-NEXT:    - {name: b, access: readwrite}
// CHECK-NEXT:    - {name: c, access: readwrite}
// CHECK-LABEL: - name: pointer_call

CLEAVE_ENTRY("GET /pointer") long pointer_call(long n) {
  long (*F)() = n ? &get_b : &get_c;
  return F();
  // REMARK: state-unknown.cpp:[[@LINE-1]]:10: remark: 'pointer_call' may touch every state variable: 'pointer_call' calls through a function or member pointer [-Rcleave]
}
// CHECK:       state:
// CHECK-NEXT:    - {name: a, access: readwrite}
// CHECK-NEXT:    - {name: b, access: readwrite}
// CHECK-NEXT:    - {name: c, access: readwrite}
// CHECK-LABEL: - name: function_call

// The pointer call is in the library's std::function: reported at the entry.
CLEAVE_ENTRY("GET /function") long function_call() {
// REMARK: state-unknown.cpp:[[@LINE-1]]:36: remark: 'function_call' may touch every state variable: 'std::function<long ()>::operator()' calls through a function or member pointer [-Rcleave]
  std::function<long()> F = [] { return b; };
  return F();
}
// CHECK:       state:
// CHECK-NEXT:    - {name: a, access: readwrite}
// CHECK-NEXT:    - {name: b, access: readwrite}
// CHECK-NEXT:    - {name: c, access: readwrite}
// CHECK-LABEL: - name: external_call

CLEAVE_ENTRY("GET /external") long external_call() {
// REMARK: state-unknown.cpp:[[@LINE-1]]:36: remark: 'external_call' may touch every state variable: 'external_call' calls a function that none of the given sources defines [-Rcleave]
  return defined_elsewhere();
}
// CHECK:       state:
// CHECK-NEXT:    - {name: a, access: readwrite}
// CHECK-NEXT:    - {name: b, access: readwrite}
// CHECK-NEXT:    - {name: c, access: readwrite}
// CHECK-LABEL: - name: library_virtual

CLEAVE_ENTRY("GET /caught") std::string library_virtual() {
// REMARK: state-unknown.cpp:[[@LINE-1]]:41: remark: 'library_virtual' may touch every state variable: 'library_virtual' makes a virtual call through a library class that a class of the program, or a library template instantiated with one, derives from [-Rcleave]
  try {
    throw std::runtime_error("x");
  } catch (const std::exception &E) {
    return E.what(); // may be Refused::what
  }
}
// CHECK:       state:
// CHECK-NEXT:    - {name: a, access: readwrite}
// CHECK-NEXT:    - {name: b, access: readwrite}
// CHECK-NEXT:    - {name: c, access: readwrite}
// CHECK-LABEL: - name: direct_call

// Known targets: the object's type is known, or the library code it runs
// dispatches only through classes the program does not derive from.
CLEAVE_ENTRY("GET /direct") long direct_call() {
  Square S;
  return S.area();
}
// CHECK:       state:
// CHECK-NEXT:    - {name: a, access: read}
// CHECK-NOT:     {name:
// CHECK-LABEL: - name: formatted

CLEAVE_ENTRY("GET /formatted") std::string formatted(long n) {
  std::ostringstream OS;
  OS << n << ':' << c;
  return OS.str();
}
// CHECK:       state:
// CHECK-NEXT:    - {name: c, access: read}
// CHECK-NOT:     {name:
// CHECK-LABEL: {{^}}state:
// REMARK-NOT: every state variable
