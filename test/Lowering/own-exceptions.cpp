// Exceptions of the program's own classes cross boundaries as themselves
// when a handler around a boundary catches them: a class derived from a
// standard exception that only passes its message on (an inherited
// constructor, or one of its own that hands the message to its base) is
// made again from its message; a class of plain data members travels by
// its members. Handlers take them by their classes, as in the plain
// program, also a class derived from the one a handler names, rethrown
// (`throw;`) from a handler after a boundary, and across two levels of
// callers. An exception that nothing catches answers as the plain
// program's does.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest own-exceptions: 18 calls agree (16 x 200, 2 x 500)

#include <cleave/cleave.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

CLEAVE_STATE() std::string log_ = "";

namespace shop {
struct Rejected : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct OutOfStock : Rejected {
  explicit OutOfStock(const std::string &m) : Rejected(m) {}
};
class Declined : public std::logic_error {
public:
  explicit Declined(const char *m) : std::logic_error(m) {}
};
} // namespace shop

// Plain data: its members travel.
struct Shortage {
  std::string sku;
  int missing = 0;
  std::vector<int> bins;
};

CLEAVE_FUNCTION("memory=2048") int quote(int x) {
  log_ += "q" + std::to_string(x) + ";";
  if (x == -1)
    throw shop::Rejected("rejected " + std::to_string(x));
  if (x == -2)
    throw shop::OutOfStock("out of stock");
  if (x == -3)
    throw shop::Declined("declined");
  if (x == -4)
    throw Shortage{"sku-" + std::to_string(x), 7, {1, 2, 3}};
  if (x == -5)
    throw std::out_of_range("far");
  return x * 3;
}

// A helper between: the exception passes through it on its way up.
int twice(int x) {
  int a = quote(x);
  return a + quote(x + 10);
}

CLEAVE_ENTRY("POST /own") std::string own(int x) {
  try {
    int r = twice(x);
    return "ok " + std::to_string(r);
  } catch (const shop::OutOfStock &e) {
    return std::string("stock: ") + e.what();
  } catch (const shop::Rejected &e) {
    return std::string("rejected: ") + e.what();
  } catch (const shop::Declined &e) {
    return std::string("declined: ") + e.what();
  } catch (const Shortage &s) {
    return "short " + s.sku + " " + std::to_string(s.missing) + " " +
           std::to_string(s.bins.size());
  } catch (const std::exception &e) {
    return std::string("std: ") + e.what();
  }
}

// The base's handler takes the derived class, which stays what it is:
// rethrown after a boundary in the handler, an outer handler of the
// derived class takes it.
CLEAVE_ENTRY("POST /rethrow") std::string rethrow(int x) {
  std::string out;
  try {
    try {
      out += std::to_string(quote(x));
    } catch (const shop::Rejected &e) {
      out += "inner(" + std::string(e.what()) + ")";
      out += std::to_string(quote(3));
      throw;
    }
  } catch (const shop::OutOfStock &e) {
    out += "outer-stock(" + std::string(e.what()) + ")";
  } catch (const shop::Rejected &e) {
    out += "outer(" + std::string(e.what()) + ")";
  }
  return out;
}

// Plain data, changed in the handler after a boundary.
CLEAVE_ENTRY("POST /data") int data(int x) {
  try {
    return quote(x);
  } catch (Shortage &s) {
    s.missing += quote(1);
    return s.missing * 100 + static_cast<int>(s.bins.size());
  }
}

// Nothing catches it: the 500 says what the plain program's handler says.
CLEAVE_ENTRY("POST /uncaught") int uncaught(int x) {
  try {
    return quote(x);
  } catch (const shop::Declined &) {
    return -1;
  }
}

CLEAVE_ENTRY("GET /log") std::string log() { return log_; }

// CALL: POST /own {"x": 2}
// CALL: POST /own {"x": -1}
// CALL: POST /own {"x": -2}
// CALL: POST /own {"x": -3}
// CALL: POST /own {"x": -4}
// CALL: POST /own {"x": -5}
// CALL: POST /own {"x": -13}
// CALL: POST /rethrow {"x": -1}
// CALL: POST /rethrow {"x": -2}
// CALL: POST /rethrow {"x": 4}
// CALL: POST /data {"x": -4}
// CALL: POST /data {"x": 5}
// CALL: POST /uncaught {"x": -3}
// CALL: POST /uncaught {"x": -1}
// CALL: POST /uncaught {"x": -4}
// CALL: POST /uncaught {"x": 1}
// CALL: GET /log {}
// CALL: POST /own {"x": -12}
