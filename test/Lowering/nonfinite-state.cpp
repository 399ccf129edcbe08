// State that holds NaN or an infinity comes back from the store as it was
// (JSON spells them "NaN", "Infinity" and "-Infinity"), in the entry that
// wrote it and in the next steps and requests; the plain program keeps
// them in memory.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest nonfinite-state: 9 calls agree (9 x 200)

#include <cleave/cleave.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

CLEAVE_STATE() double level = 1.5;
CLEAVE_STATE() std::vector<float> history = {};
CLEAVE_STATE() std::map<std::string, double> marks = {};

std::string show(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  return std::to_string(v);
}

CLEAVE_FUNCTION("memory=2048") int note(int k) {
  marks["k" + std::to_string(k)] = level;
  return k;
}

CLEAVE_ENTRY("POST /set") int set(int k) {
  level = k == 0 ? std::numeric_limits<double>::quiet_NaN()
          : k > 0 ? std::numeric_limits<double>::infinity()
                  : -std::numeric_limits<double>::infinity();
  history.push_back(static_cast<float>(level));
  return note(k) + (std::isnan(level) ? 100 : 0);
}

CLEAVE_ENTRY("GET /read") std::string read() {
  std::string out = show(level) + "|";
  for (float h : history)
    out += show(h) + ",";
  for (const auto &[k, v] : marks)
    out += k + "=" + show(v) + ";";
  return out;
}

// CALL: GET /read {}
// CALL: POST /set {"k": 0}
// CALL: GET /read {}
// CALL: POST /set {"k": 1}
// CALL: GET /read {}
// CALL: POST /set {"k": -1}
// CALL: GET /read {}
// CALL: POST /set {"k": 0}
// CALL: GET /read {}
