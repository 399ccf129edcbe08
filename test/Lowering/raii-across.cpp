// An object whose constructor and destructor have effects, alive across
// boundaries: its constructor runs once, where it is declared, and its
// destructor once, at the end of its scope, in the step that gets there;
// it travels in the frames in between, never default-constructed, copied
// or destroyed at a step's end. The counters are plain globals, read by
// the entries.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest raii-across: 8 calls agree (8 x 200)

#include <cleave/cleave.h>

#include <string>

int made = 0, gone = 0, copies = 0;

struct Guard {
  int id = 0;
  std::string tag;
  Guard() { ++made; }
  explicit Guard(int i) : id(i), tag("g" + std::to_string(i)) { ++made; }
  Guard(const Guard &o) : id(o.id), tag(o.tag) { ++made; ++copies; }
  ~Guard() { ++gone; }
};

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /one") int one(int x) {
  Guard g;
  int r = quote(x);
  return r + made * 100 + gone * 10000;
}

CLEAVE_ENTRY("POST /many") int many(int x) {
  int total = 0;
  {
    Guard outer(x);
    for (int i = 0; i < 3; ++i) {
      Guard inner(i);
      total += quote(i + outer.id) + inner.id;
      if (i == 1)
        continue;
      total += quote(static_cast<int>(inner.tag.size()));
    }
    total += outer.id;
  }
  return total * 1000 + made * 10 + gone;
}

CLEAVE_ENTRY("GET /counts") int counts() {
  return made * 10000 + gone * 100 + copies;
}

// CALL: POST /one {"x": 5}
// CALL: GET /counts {}
// CALL: POST /one {"x": 6}
// CALL: POST /many {"x": 2}
// CALL: GET /counts {}
// CALL: POST /many {"x": 0}
// CALL: POST /one {"x": 1}
// CALL: GET /counts {}
