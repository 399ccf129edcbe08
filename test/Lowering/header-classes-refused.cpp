// A member function that reaches a boundary runs as steps in a member
// function cleave adds to its class, in its copy of the header that defines
// the class; every #include on the way to that header is pointed at a copy.
// It cannot be where the header's name is spelled by a macro, or where the
// header comes from a command-line -include.
// RUN: cleave build --no-build -o %t %s -- -std=c++17 -I%S/Inputs/headers -Xclang -verify
// RUN: not cleave build --no-build -o %t %s -- -std=c++17 -I%S/Inputs/headers -DFORCED -include counter.h 2>&1 | FileCheck %s --check-prefix=FORCED
// FORCED: counter.h:1:1: error: cleave must add to this file in the handler library's copy, but it is included by a command-line -include, which cannot be pointed at the copy; include it with #include in the source instead

#include <cleave/cleave.h>

#ifndef FORCED
#define COUNTER_HEADER "counter.h"
#include COUNTER_HEADER // expected-error {{cleave must point this #include at its copy of the file, but the file's name is spelled by a macro}}
#endif

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

int Counter::add(int x) {
  n += quote(x);
  return n;
}

CLEAVE_ENTRY("POST /add") int add(int x) {
  Counter c;
  return c.add(x);
}
