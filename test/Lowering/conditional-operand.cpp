// A boundary in an operand that C++ evaluates only sometimes, or only after
// another one: the arms of ?:, the right operand of && and ||, the right
// operand of the comma operator. The step decides before the call, as the
// plain program does (the call is made only when its operand runs, after
// the left operand), and a resumed step takes the operand that holds its
// resume point without evaluating the condition again. Nested, in loop
// conditions, in arguments of another boundary call.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest conditional-operand: 29 calls agree (29 x 200)

#include <cleave/cleave.h>

#include <string>

CLEAVE_STATE() std::string log_ = "";

CLEAVE_FUNCTION("memory=2048") int quote(int x) {
  log_ += "q" + std::to_string(x) + ";";
  return x * 3;
}

int note(int x) {
  log_ += "n" + std::to_string(x) + ";";
  return x;
}

CLEAVE_ENTRY("POST /then") int then_arm(int x) {
  return x > 0 ? quote(x) : 0;
}

CLEAVE_ENTRY("POST /else") int else_arm(int x) {
  int y = x > 0 ? 0 : quote(-x);
  return y + 1;
}

CLEAVE_ENTRY("POST /both") int both_arms(int x) {
  int y = note(x) % 2 ? quote(x) + note(1) : quote(x + 1) * 2;
  return y;
}

CLEAVE_ENTRY("POST /and") bool and_rhs(int x) {
  return x > 0 && quote(x) > 3;
}

CLEAVE_ENTRY("POST /or") bool or_rhs(int x) {
  bool b = note(x) > 0 || quote(x) < -3;
  return b;
}

CLEAVE_ENTRY("POST /comma") int comma_rhs(int x) {
  int y = (x += note(x), quote(x));
  return y + x;
}

// Nested: a ?: in an arm of another, && inside ||.
CLEAVE_ENTRY("POST /nested") int nested(int x) {
  int a = x > 10 ? (x > 20 ? quote(x) : quote(-x)) : (x < 0 ? 7 : quote(1));
  bool b = (x % 2 == 0 && quote(x) > 6) || (x % 3 == 0 && quote(x + 1) > 0);
  return a + (b ? 1000 : 0);
}

// A boundary in the condition and in an arm; the condition's value is used
// up when the arm is chosen.
CLEAVE_ENTRY("POST /cond_and_arm") int cond_and_arm(int x) {
  return quote(x) > 6 ? quote(x + 1) : quote(x - 1) + 1;
}

// In a loop condition and in the argument of another boundary call.
CLEAVE_ENTRY("POST /loop") int loop(int x) {
  int n = 0;
  while (n < x && quote(n) < 12)
    ++n;
  return quote(n > 2 ? quote(n) : n);
}

// Later boundaries in the same statement: the statement runs again after
// each, so the decisions taken before them, and the values of the calls that
// ran in an operand (and only those), travel with the frame.
CLEAVE_ENTRY("POST /later") int later(int x) {
  int y = (x > 2 && quote(x) > 6) + quote(x + 1) * 10 +
          (x % 2 ? quote(2) : x) * 100 + (note(x) < 0 || quote(3) > 0) * 1000;
  return y;
}

CLEAVE_ENTRY("POST /later_nested") int later_nested(int x) {
  return (x > 0 ? (x > 5 ? quote(x) : quote(-x)) : 1) + quote(x) +
         (x < 3 ? quote(x * 2) : quote(x * 3)) + quote(7);
}

CLEAVE_ENTRY("GET /log") std::string get_log() { return log_; }

// CALL: POST /then {"x": 4}
// CALL: POST /then {"x": -4}
// CALL: POST /else {"x": 4}
// CALL: POST /else {"x": -4}
// CALL: POST /both {"x": 3}
// CALL: POST /both {"x": 4}
// CALL: POST /and {"x": 0}
// CALL: POST /and {"x": 2}
// CALL: POST /or {"x": 2}
// CALL: POST /or {"x": -2}
// CALL: POST /comma {"x": 2}
// CALL: POST /nested {"x": 25}
// CALL: POST /nested {"x": 15}
// CALL: POST /nested {"x": -3}
// CALL: POST /nested {"x": 4}
// CALL: POST /nested {"x": 3}
// CALL: POST /cond_and_arm {"x": 1}
// CALL: POST /cond_and_arm {"x": 5}
// CALL: POST /loop {"x": 10}
// CALL: POST /loop {"x": 1}
// CALL: POST /loop {"x": 0}
// CALL: POST /later {"x": 1}
// CALL: POST /later {"x": 3}
// CALL: POST /later {"x": 4}
// CALL: POST /later_nested {"x": 7}
// CALL: POST /later_nested {"x": 2}
// CALL: POST /later_nested {"x": -1}
// CALL: GET /log
// CALL: POST /then {"x": 0}
