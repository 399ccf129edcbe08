// An argument of a boundary call is evaluated in the caller as C++ does: a
// parameter taken by value is initialized from it, so `std::move(buf)`
// leaves the caller's buf moved from, and the frame carries it moved from,
// as in the plain program. A parameter taken by const reference moves
// nothing.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest move-argument: 4 calls agree (4 x 200)

#include <cleave/cleave.h>

#include <utility>
#include <vector>

CLEAVE_FUNCTION("memory=2048") int flush(std::vector<int> batch) {
  return static_cast<int>(batch.size());
}
CLEAVE_FUNCTION("memory=2048") int peek(const std::vector<int> &batch) {
  return static_cast<int>(batch.size());
}

CLEAVE_ENTRY("POST /moved") int moved(int x) {
  std::vector<int> buf(static_cast<size_t>(x), 7);
  int sent = flush(std::move(buf));
  buf.push_back(x);
  return sent * 100 + static_cast<int>(buf.size());
}

CLEAVE_ENTRY("POST /kept") int kept(int x) {
  std::vector<int> buf(static_cast<size_t>(x), 7);
  int seen = peek(std::move(buf));
  buf.push_back(x);
  return seen * 100 + static_cast<int>(buf.size());
}

// CALL: POST /moved {"x": 3}
// CALL: POST /moved {"x": 0}
// CALL: POST /kept {"x": 3}
// CALL: POST /kept {"x": 0}
