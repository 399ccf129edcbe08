// A static data member that is state must be public: the generated code
// reaches each thread's copy of it from namespace scope.
// RUN: not cleave build -q --no-build -o %t %s -- -std=c++17 2>&1 | FileCheck %s

#include <cleave/cleave.h>

class Stats {
  CLEAVE_STATE() static long hits;

public:
  static long bump() { return ++hits; }
};
long Stats::hits = 0;
// CHECK: state-private-member.cpp:[[@LINE-1]]:13: error: state variable 'Stats::hits' must be reachable from namespace scope; make it (and the classes around it) public

CLEAVE_ENTRY("POST /bump") long bump() { return Stats::bump(); }
