// A boundary in a loop's head: the condition of while, do and for, a for
// loop's increment, and a variable declared in the condition. The loop runs
// as `for (;;)` with its test inside, so the step after the call continues
// the test; `continue` still goes to the increment (or the do loop's test)
// and `break` still leaves the loop. Each entry answers as the plain program.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest loop-condition: 22 calls agree (22 x 200)

#include <cleave/cleave.h>

#include <string>
#include <vector>

CLEAVE_STATE() long probes = 0;

CLEAVE_FUNCTION("memory=2048") int quote(int x) {
  ++probes;
  return x * 3;
}

CLEAVE_ENTRY("POST /while") int while_cond(int x) {
  int n = 0;
  while (quote(n) < x)
    ++n;
  return n;
}

// The test reads what the body wrote; continue and break in the body.
CLEAVE_ENTRY("POST /while_body") std::vector<int> while_body(int x) {
  std::vector<int> seen;
  int i = 0;
  while (i < 20 && quote(i) < x) {
    ++i;
    if (i % 3 == 0)
      continue;
    if (i > 12)
      break;
    seen.push_back(quote(i));
  }
  seen.push_back(i);
  return seen;
}

CLEAVE_ENTRY("POST /do") int do_cond(int x) {
  int n = 0;
  do {
    ++n;
    if (n == 2)
      continue; // to the test, which calls quote
  } while (quote(n) < x);
  return n;
}

CLEAVE_ENTRY("POST /for") int for_cond(int x) {
  int n = 0;
  for (int i = 0; i < quote(x); ++i)
    n += i;
  return n;
}

CLEAVE_ENTRY("POST /inc") std::string for_inc(int x) {
  std::string trace;
  for (int i = 0; i < x; i = quote(i) + 1) {
    if (i == 4)
      continue; // to the increment
    trace += std::to_string(i) + ",";
  }
  return trace;
}

// A stop in the increment and one in the body of the same loop.
CLEAVE_ENTRY("POST /both") int both(int x) {
  int sum = 0;
  for (int i = 1; i < x; i += quote(1)) {
    sum += quote(i);
    if (sum > 200)
      break;
  }
  return sum;
}

// A variable declared in the condition, alive around a boundary in the body.
CLEAVE_ENTRY("POST /declared") int declared(int x) {
  int total = 0, left = x;
  while (int step = left > 3 ? 3 : left) {
    total += quote(step);
    left -= step;
  }
  return total;
}

// The condition declares a variable from a boundary call.
CLEAVE_ENTRY("POST /declared_call") int declared_call(int x) {
  int rounds = 0;
  while (int q = quote(x) - 3 * rounds) {
    if (q < 0)
      break;
    ++rounds;
  }
  return rounds;
}

CLEAVE_ENTRY("POST /for_declared") int for_declared(int x) {
  int total = 0;
  for (int i = 0; int left = x - i; ++i)
    total += quote(left);
  return total;
}

// The condition of a while nested in the body of a for.
CLEAVE_ENTRY("POST /inner") int inner(int x) {
  int n = 0;
  for (int i = 0; i < x; ++i) {
    while (quote(n) < i)
      ++n;
  }
  return n;
}

// Loops with a boundary in the head, followed by more boundaries: a resumed
// step passes each loop whole.
CLEAVE_ENTRY("POST /sequence") long sequence(int x) {
  long acc = 0;
  for (int i = 0; i < 2 && quote(i) % 5 != 4; i += 1 + quote(i) % 2)
    acc = acc * 7 + i;
  int w = 0;
  while (w < 3 && quote(w + x) % 4 != 3) {
    ++w;
    acc += w;
  }
  do {
    acc += quote(w);
  } while (++w < 5 && quote(w) % 2);
  return acc * 100 + quote(x);
}

CLEAVE_ENTRY("GET /probes") long get_probes() { return probes; }

// CALL: POST /while {"x": 10}
// CALL: POST /while {"x": 0}
// CALL: POST /while_body {"x": 40}
// CALL: POST /while_body {"x": 5}
// CALL: POST /do {"x": 10}
// CALL: POST /do {"x": 0}
// CALL: POST /for {"x": 3}
// CALL: POST /for {"x": 0}
// CALL: POST /inc {"x": 30}
// CALL: POST /inc {"x": 0}
// CALL: POST /both {"x": 9}
// CALL: POST /both {"x": 40}
// CALL: POST /declared {"x": 10}
// CALL: POST /declared {"x": 0}
// CALL: POST /declared_call {"x": 4}
// CALL: POST /for_declared {"x": 4}
// CALL: POST /for_declared {"x": 0}
// CALL: POST /inner {"x": 5}
// CALL: POST /inner {"x": 0}
// CALL: POST /sequence {"x": 1}
// CALL: POST /sequence {"x": 2}
// CALL: GET /probes
