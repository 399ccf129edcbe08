// Variables declared in a condition and initialized by a boundary call get
// the call's value: in an if (with and without an else, after an
// init-statement), a switch and a while, with the variable used in the
// branches, beside other boundaries, and of a class type (std::optional).
// The deployment answers as the plain program (declared-in-condition.cpp
// checks the frames).
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest declared-in-condition-runs: 10 calls agree (10 x 200)

#include <cleave/cleave.h>

#include <optional>
#include <string>

CLEAVE_STATE() long calls_ = 0;

CLEAVE_FUNCTION("memory=2048") int quote(int x) {
  ++calls_;
  return x * 3;
}

CLEAVE_FUNCTION("memory=2048") std::optional<int> lookup(int k) {
  ++calls_;
  if (k > 3)
    return std::nullopt;
  return k * 2;
}

CLEAVE_ENTRY("POST /branches") std::string branches(int k) {
  std::string out;
  if (auto r = lookup(k))
    out += "found " + std::to_string(*r + quote(*r));
  else
    out += "missing " + std::to_string(quote(k));
  if (int q = quote(k - 2))
    out += " q=" + std::to_string(q);
  if (int base = k * 10; std::optional<int> r = lookup(k - 1))
    out += " r=" + std::to_string(base + *r);
  else
    out += " none=" + std::to_string(base);
  return out;
}

CLEAVE_ENTRY("POST /pick") std::string pick(int k) {
  std::string out;
  switch (int q = quote(k) % 4) {
  case 0:
    out = "zero " + std::to_string(quote(q));
    break;
  case 1:
    out = "one";
    break;
  default:
    out = "other " + std::to_string(q);
  }
  int n = 0;
  while (int left = quote(k - n) - 3) {
    out += " " + std::to_string(left);
    if (++n > 5)
      break;
  }
  return out;
}

CLEAVE_ENTRY("GET /calls") long calls() { return calls_; }

// CALL: POST /branches {"k": 1}
// CALL: POST /branches {"k": 2}
// CALL: POST /branches {"k": 5}
// CALL: POST /branches {"k": 4}
// CALL: POST /pick {"k": 4}
// CALL: POST /pick {"k": 1}
// CALL: POST /pick {"k": 2}
// CALL: POST /pick {"k": 3}
// CALL: GET /calls {}
// CALL: POST /pick {"k": 0}
