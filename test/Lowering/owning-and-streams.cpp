// std::unique_ptr and the string streams live across boundaries. A
// unique_ptr's object is rebuilt in memory as `new` gets it, without a
// constructor of the program's, so an object whose constructors and
// destructor count is made and destroyed once, as in the plain program; a
// null one stays null. A string stream keeps its text, where it reads and
// writes, its format flags, precision, width and fill. A unique_ptr also
// crosses as JSON: null, or its object.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest owning-and-streams: 9 calls agree (9 x 200)

#include <cleave/cleave.h>

#include <iomanip>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

CLEAVE_STATE() long made_ = 0;
CLEAVE_STATE() long ended_ = 0;

struct Counted {
  Counted() { ++made_; }
  Counted(const Counted &o) : v(o.v) { ++made_; }
  ~Counted() { ++ended_; }
  long v = 0;
};

struct Holder {
  std::unique_ptr<Counted> c;
  std::unique_ptr<std::string> note;
  int n = 0;
};

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }

CLEAVE_ENTRY("POST /owned") long owned(int x) {
  auto p = std::make_unique<int>(x);
  std::unique_ptr<int> empty;
  auto c = std::make_unique<Counted>();
  c->v = quote(*p);
  Holder h{std::make_unique<Counted>(), nullptr, 2};
  h.c->v = quote(h.n) + c->v;
  std::vector<std::unique_ptr<int>> many;
  for (int i = 0; i < 3; ++i)
    many.push_back(std::make_unique<int>(quote(i)));
  std::unique_ptr<Counted> moved = std::move(c);
  long r = *p + (empty ? 1000 : 0) + moved->v + h.c->v + (c ? 1 : 0) +
           (h.note ? 100 : 0);
  r += quote(static_cast<int>(r % 100));
  for (const auto &m : many)
    r += *m;
  return r;
}

CLEAVE_ENTRY("GET /counts") std::string counts() {
  return std::to_string(made_) + "/" + std::to_string(ended_);
}

CLEAVE_ENTRY("POST /streams") std::string streams(int x) {
  std::ostringstream os;
  os << "q=" << quote(x);
  os << std::hex << std::setfill('0') << std::setw(6);
  os << quote(x + 100) << ";";
  os << std::setprecision(3) << std::fixed << 1.0 / quote(x + 1);
  std::istringstream in("10 20 30 forty");
  int a = 0, b = 0;
  in >> a;
  in >> b;
  b += quote(b);
  int c = 0;
  in >> c;
  std::string w;
  in >> w;
  int d = 0;
  in >> d; // fails: the error state travels too
  bool failed = in.fail();
  std::stringstream both;
  both << a << " " << b;
  int first = 0;
  both >> first;
  both << " " << quote(first);
  int second = 0, third = 0;
  both >> second >> third;
  return os.str() + "|" + std::to_string(a + b + c) + w +
         (failed ? "!" : "?") + std::to_string(quote(d)) + "|" +
         std::to_string(second) + "," + std::to_string(third) + "|" +
         both.str();
}

CLEAVE_ENTRY("POST /maybe") std::unique_ptr<int> maybe(int v) {
  auto p = v < 0 ? nullptr : std::make_unique<int>(v);
  int q = quote(v);
  if (!p)
    return p;
  *p += q;
  return p;
}

// The plain program's driver writes the value with nlohmann::json, which
// does not know std::unique_ptr.
#ifndef CLEAVE_HANDLER_LIBRARY
#include <nlohmann/json.hpp>
namespace nlohmann {
template <class T> struct adl_serializer<std::unique_ptr<T>> {
  static void to_json(json &J, const std::unique_ptr<T> &V) {
    if (V)
      J = *V;
    else
      J = nullptr;
  }
};
} // namespace nlohmann
#endif

// CALL: POST /owned {"x": 3}
// CALL: GET /counts {}
// CALL: POST /owned {"x": 8}
// CALL: GET /counts {}
// CALL: POST /streams {"x": 5}
// CALL: POST /streams {"x": 2}
// CALL: POST /maybe {"v": 4}
// CALL: POST /maybe {"v": -4}
// CALL: GET /counts {}
