// Statements with many boundary calls: each resume point restores the
// values of the calls before it, which its frame saves as one run
// (cleave_r.pendingRun) where they are consecutive and saved as they are,
// and the lists of resume points that carry a value are ranges. Runs of
// values of different types, a run broken by a call in an operand that runs
// only sometimes, nested calls, calls in a loop, and a state log that shows
// the calls are made once each, in order.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest many-calls-one-statement: 10 calls agree (10 x 200)
// RUN: FileCheck %s --check-prefix=CODE < %t/diff/out/src/many-calls-one-statement.cpp
// CODE: cleave_r.pendingRun(1u, 11u)
// CODE: cleave_r.stop<long>(1u, {{[{][{]}}2u, 12u{{[}][}]}})

#include <cleave/cleave.h>

#include <string>

CLEAVE_STATE() std::string log_ = "";

CLEAVE_FUNCTION("memory=2048") long f(long x) {
  log_ += "f" + std::to_string(x) + ";";
  return x * 3 + 1;
}

CLEAVE_FUNCTION("memory=2048") std::string g(long x) {
  log_ += "g" + std::to_string(x) + ";";
  return std::string(static_cast<size_t>(x % 5 + 1), 'a' + x % 26);
}

CLEAVE_ENTRY("POST /sum") long sum(long a) {
  return f(a) + f(a + 1) + f(a + 2) + f(a + 3) + f(a + 4) + f(a + 5) +
         f(a + 6) + f(a + 7) + f(a + 8) + f(a + 9) + f(a + 10) + f(a + 11);
}

// Built-in operators only, so that the plain program's order of the calls
// is the deployment's (operands of an overloaded + are unsequenced).
CLEAVE_ENTRY("POST /mixed") long mixed(long a) {
  return static_cast<long>(g(a).size()) * f(a) -
         static_cast<long>(g(a + 1).size() + g(a + 2).size()) +
         f(a + 3) * f(a + 4) + static_cast<long>(g(a + 5)[0]) +
         static_cast<long>(g(a + 6).back());
}

CLEAVE_ENTRY("POST /broken") long broken(long a) {
  long s = f(1) + f(2) + f(3) + (a > 3 && f(a) > 10 ? f(4) : f(5)) + f(6) +
           f(7) + f(8) + (a % 2 ? f(a + 9) : 0) + f(10) + f(11);
  return s;
}

CLEAVE_ENTRY("POST /nested") long nested(long a) {
  return f(f(a)) + f(f(f(a + 1))) + f(a + 2) + f(f(a + 3) + f(a + 4)) +
         f(a + 5);
}

CLEAVE_ENTRY("POST /loop") long loop(long n) {
  long total = 0;
  for (long i = 0; i < n; ++i)
    total += f(i) * f(i + 1) + f(i + 2) - f(i + 3) + static_cast<long>(g(i).size());
  return total;
}

CLEAVE_ENTRY("GET /log") std::string read_log() { return log_; }

// CALL: POST /sum {"a": 3}
// CALL: POST /mixed {"a": 2}
// CALL: POST /broken {"a": 5}
// CALL: POST /broken {"a": 2}
// CALL: POST /nested {"a": 1}
// CALL: POST /loop {"n": 4}
// CALL: POST /loop {"n": 0}
// CALL: GET /log
// CALL: POST /sum {"a": -7}
// CALL: GET /log
