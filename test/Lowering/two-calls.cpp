// Two boundary calls in one statement. The second call's frame carries the
// first call's value, still pending (shown as `quote() (int)`), and the
// first call's frame carries what the second call's arguments read.
// RUN: cleave build -Rcleave -q --no-build -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep -v cross %t.remarks | FileCheck %s --check-prefix=PLACE --implicit-check-not=remark:
// RUN: grep cross %t.remarks | FileCheck %s --check-prefix=CARRY --implicit-check-not=remark:

#include <cleave/cleave.h>

#include <string>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }
CLEAVE_FUNCTION("memory=1024") std::string label(int x) { return std::to_string(x); }

CLEAVE_ENTRY("POST /sum") int sum(int a, int b, int c) {
  int d = c;
  int s = quote(a) + quote(b);
  // PLACE: two-calls.cpp:[[@LINE-1]]:11: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // PLACE: two-calls.cpp:[[@LINE-2]]:22: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: two-calls.cpp:[[@LINE-3]]:11: remark: 2 values cross the boundary at {{.*}}two-calls.cpp:[[@LINE-3]]:11: b (int), d (int) [-Rcleave]
  // CARRY: two-calls.cpp:[[@LINE-4]]:22: remark: 2 values cross the boundary at {{.*}}two-calls.cpp:[[@LINE-4]]:22: d (int), quote() (int) [-Rcleave]
  return s + d;
}

// Different callees and types, as the arguments of a plain function in a
// return statement; `a` is read between the calls and after them.
static std::string join(const std::string &l, int n) { return l + "/" + std::to_string(n); }

CLEAVE_ENTRY("POST /text") std::string text(int a, int b) {
  return join(label(a), quote(b) + a);
  // PLACE: two-calls.cpp:[[@LINE-1]]:15: remark: 'label' runs as its own function: memory 1024 MiB vs 256 MiB [-Rcleave]
  // PLACE: two-calls.cpp:[[@LINE-2]]:25: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: two-calls.cpp:[[@LINE-3]]:15: remark: 2 values cross the boundary at {{.*}}two-calls.cpp:[[@LINE-3]]:15: a (int), b (int) [-Rcleave]
  // CARRY: two-calls.cpp:[[@LINE-4]]:25: remark: 2 values cross the boundary at {{.*}}two-calls.cpp:[[@LINE-4]]:25: a (int), label() (std::string) [-Rcleave]
}

// A call in the argument of another: the inner value is consumed by the
// outer call before it stops, so it is not pending there.
CLEAVE_ENTRY("POST /nest") int nest(int a, int k) {
  int r = quote(quote(a)) + k;
  // PLACE: two-calls.cpp:[[@LINE-1]]:11: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // PLACE: two-calls.cpp:[[@LINE-2]]:17: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: two-calls.cpp:[[@LINE-3]]:17: remark: 1 value crosses the boundary at {{.*}}two-calls.cpp:[[@LINE-3]]:17: k (int) [-Rcleave]
  // CARRY: two-calls.cpp:[[@LINE-4]]:11: remark: 1 value crosses the boundary at {{.*}}two-calls.cpp:[[@LINE-4]]:11: k (int) [-Rcleave]
  return r;
}

// Three calls: the third carries both pending values.
CLEAVE_ENTRY("POST /three") int three(int a, int b, int c) {
  int t = quote(a) - quote(b) * quote(c);
  // PLACE: two-calls.cpp:[[@LINE-1]]:11: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // PLACE: two-calls.cpp:[[@LINE-2]]:22: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // PLACE: two-calls.cpp:[[@LINE-3]]:33: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: two-calls.cpp:[[@LINE-4]]:11: remark: 2 values cross the boundary at {{.*}}two-calls.cpp:[[@LINE-4]]:11: b (int), c (int) [-Rcleave]
  // CARRY: two-calls.cpp:[[@LINE-5]]:22: remark: 2 values cross the boundary at {{.*}}two-calls.cpp:[[@LINE-5]]:22: c (int), quote() (int) [-Rcleave]
  // CARRY: two-calls.cpp:[[@LINE-6]]:33: remark: 2 values cross the boundary at {{.*}}two-calls.cpp:[[@LINE-6]]:33: quote() (int), quote() (int) [-Rcleave]
  return t;
}
