// Recursion through a boundary: a function cut into steps calls itself, or
// reaches itself through another one, as a chain of steps calling a chain
// of the same machine; each call has its own frame, as each C++ call has
// its own locals.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest recursion-runs: 9 calls agree (9 x 200)

#include <cleave/cleave.h>

#include <string>

CLEAVE_STATE() std::string log_ = "";

int ping(int n);

CLEAVE_FUNCTION("memory=2048") int pong(int n) {
  log_ += "pong" + std::to_string(n) + ";";
  if (n <= 0)
    return 0;
  return ping(n - 1) + 1;
}

CLEAVE_ENTRY("POST /ping") int ping(int n) {
  std::string mark = "ping" + std::to_string(n);
  int r = pong(n);
  log_ += mark + ";";
  return r * 10;
}

CLEAVE_FUNCTION("memory=1024") int cost(int n) { return n * 2; }

int walk(int n, std::string &path) {
  if (n <= 0)
    return 0;
  int c = cost(n);
  path += std::to_string(c) + ",";
  return c + walk(n - 1, path);
}

CLEAVE_ENTRY("POST /walk") std::string start(int n) {
  std::string path;
  int total = walk(n, path);
  return path + "=" + std::to_string(total);
}

CLEAVE_ENTRY("GET /log") std::string log() { return log_; }

// CALL: POST /ping {"n": 3}
// CALL: POST /ping {"n": 0}
// CALL: GET /log {}
// CALL: POST /walk {"n": 4}
// CALL: POST /walk {"n": 0}
// CALL: POST /walk {"n": 1}
// CALL: POST /walk {"n": 40}
// CALL: POST /ping {"n": 25}
// CALL: GET /log {}
