// A range-for whose loop variable is a const reference into a const array
// at namespace scope. The loop variable is bound again from the array when
// the step resumes, through a pointer that must keep the const: the
// generated C++ must compile.
// RUN: rm -rf %t
// RUN: cleave build -Rcleave -q -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep cross %t.remarks | FileCheck %s --implicit-check-not=remark:
// RUN: test -f %t/build/libcleave_handlers.so

#include <cleave/cleave.h>

#include <array>
#include <string>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

const int Primes[] = {2, 3, 5, 7};
const std::array<std::string, 2> Names = {"ann", "bob"};

CLEAVE_ENTRY("POST /primes") int primes(int scale) {
  int acc = 0;
  for (const int &p : Primes)
    acc += quote(p) * scale;
  // CHECK: range-for-const-element.cpp:[[@LINE-1]]:12: remark: 3 values cross the boundary at {{.*}}: scale (int), acc (int), p.index (std::size_t) [-Rcleave]
  return acc;
}

CLEAVE_ENTRY("POST /names") int names() {
  int acc = 0;
  for (const std::string &n : Names) {
    acc += quote((int)n.size());
    // CHECK: range-for-const-element.cpp:[[@LINE-1]]:12: remark: 2 values cross the boundary at {{.*}}: acc (int), n.index (std::size_t) [-Rcleave]
    acc += (int)n.size();
  }
  return acc;
}
