// Boundaries inside try blocks and handlers. The callee's exception comes
// back to the caller's step, which throws it again where the call was: the
// handlers that take it, its what(), the destructors it runs on the way
// out and the state left behind are the plain program's. A step resuming
// in a handler throws the exception the handler held again at the start
// of its try block, so `e` and `throw;` work after the boundary.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest try-block: 51 calls agree (43 x 200, 8 x 500)

#include <cleave/cleave.h>

#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

CLEAVE_STATE() std::string log_ = "";

struct Rejected : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws by the sign and size of x: a standard class, a subclass of one,
// a class of the standard library's own, or something that is not a
// std::exception at all.
CLEAVE_FUNCTION("memory=2048") int quote(int x) {
  log_ += "q" + std::to_string(x) + ";";
  if (x == -1)
    throw std::invalid_argument("negative quote");
  if (x == -2)
    throw std::out_of_range("far quote");
  if (x == -3)
    throw Rejected("rejected quote");
  if (x == -4)
    throw 42;
  if (x == -5) {
    std::variant<int, std::string> V = 1;
    return static_cast<int>(std::get<std::string>(V).size());
  }
  if (x == -6)
    return static_cast<int>(std::vector<int>(2).at(7));
  return x * 3;
}

// The same, without writing state: the elements of a parallel_map run at
// the same time, in any order.
CLEAVE_FUNCTION("memory=2048") int price(int x) {
  if (x == -1)
    throw std::invalid_argument("negative price");
  if (x == -2)
    throw std::out_of_range("far price");
  if (x == -4)
    throw 42;
  return x * 5;
}

struct Scope {
  std::string name;
  explicit Scope(std::string n) : name(std::move(n)) { log_ += "+" + name; }
  ~Scope() { log_ += "-" + name; }
};

CLEAVE_ENTRY("POST /direct") int direct(int x) {
  try {
    int q = quote(x);
    log_ += "after;";
    return q;
  } catch (const std::exception &e) {
    log_ += std::string("caught ") + e.what() + ";";
    return -1;
  }
}

// The first handler that matches, by the standard class.
CLEAVE_ENTRY("POST /pick") int pick(int x) {
  int r = 0;
  try {
    r = quote(x) + 1;
  } catch (const std::out_of_range &e) {
    log_ += std::string("range:") + e.what() + ";";
    r = -10;
  } catch (const std::logic_error &e) {
    log_ += std::string("logic:") + e.what() + ";";
    r = -20;
  } catch (const std::runtime_error &e) {
    log_ += std::string("runtime:") + e.what() + ";";
    r = -30;
  } catch (...) {
    log_ += "other;";
    r = -40;
  }
  return r;
}

// A loop in a try block; objects in the block are destroyed on the way to
// the handler, once.
CLEAVE_ENTRY("POST /loop") int loop(int x) {
  int total = 0;
  Scope outer("o");
  try {
    Scope inner("i");
    for (int i = 0; i < 4; ++i)
      total += quote(i == 2 ? x : i);
  } catch (const std::exception &e) {
    log_ += std::string("[") + e.what() + "]";
    total = -total;
  }
  return total;
}

// A boundary in a handler: the handler's variable and `throw;` after it.
CLEAVE_ENTRY("POST /in-handler") int inHandler(int x) {
  int r = 0;
  try {
    try {
      if (x < 0)
        throw std::invalid_argument("bad x " + std::to_string(x));
      r = x;
    } catch (const std::invalid_argument &e) {
      std::string seen = e.what();
      r = quote(-x);
      log_ += seen + "/" + e.what() + ";";
      if (x < -10)
        throw;
    }
  } catch (const std::logic_error &e) {
    log_ += std::string("outer ") + e.what() + ";";
    r = -r;
  }
  return r;
}

// A boundary in a handler that throws: the exception leaves the handler.
CLEAVE_ENTRY("POST /handler-throws") int handlerThrows(int x) {
  try {
    try {
      throw std::runtime_error("first");
    } catch (const std::exception &e) {
      log_ += std::string(e.what()) + ";";
      return quote(x);
    }
  } catch (const std::exception &e) {
    log_ += std::string("second ") + e.what() + ";";
    return -2;
  }
}

// The exception passes through a function cut at a boundary that does not
// catch it: its objects are destroyed on the way out.
CLEAVE_FUNCTION("memory=1024") int middle(int x) {
  Scope m("m");
  int r = quote(x);
  log_ += "middle;";
  return r + 1;
}

CLEAVE_ENTRY("POST /through") int through(int x) {
  try {
    return middle(x);
  } catch (const std::exception &e) {
    log_ += std::string("through ") + e.what() + ";";
    return 0;
  }
}

// Nobody catches it: 500, and the destructors and writes before it stay.
CLEAVE_ENTRY("POST /uncaught") int uncaught(int x) {
  Scope u("u");
  log_ += "before;";
  return middle(x);
}

// An element of a parallel_map throws: the first one in input order.
CLEAVE_ENTRY("POST /map") int map(std::vector<int> xs) {
  try {
    std::vector<int> r = cleave::parallel_map(xs, price);
    int s = 0;
    for (int v : r)
      s += v;
    return s;
  } catch (const std::exception &e) {
    log_ += std::string("map ") + e.what() + ";";
    return -1;
  }
}

// A function-try-block.
CLEAVE_ENTRY("POST /function-try") int functionTry(int x) try {
  return quote(x) * 2;
} catch (const std::exception &e) {
  log_ += std::string("ftb ") + e.what() + ";";
  return -7;
}

// After the boundary only a constructor throws: what the handler reads is
// carried, since the boundary call itself may throw into the handler.
struct Picky {
  int v;
  explicit Picky(int r) : v(r) {
    if (r > 20)
      throw std::length_error("picky " + std::to_string(r));
  }
};

CLEAVE_ENTRY("POST /ctor-throws") int ctorThrows(int x) {
  std::string note = "n" + std::to_string(x);
  int r = 0;
  try {
    r = quote(x);
    Picky p(r);
    r += p.v;
  } catch (const std::exception &e) {
    log_ += note + ":" + e.what() + ";";
    r = -1;
  }
  return r;
}

CLEAVE_ENTRY("GET /log") std::string log() { return log_; }

// CALL: POST /direct {"x": 4}
// CALL: POST /direct {"x": -1}
// CALL: POST /direct {"x": -3}
// CALL: POST /direct {"x": -4}
// CALL: POST /direct {"x": -5}
// CALL: POST /direct {"x": -6}
// CALL: GET /log {}
// CALL: POST /pick {"x": 2}
// CALL: POST /pick {"x": -1}
// CALL: POST /pick {"x": -2}
// CALL: POST /pick {"x": -3}
// CALL: POST /pick {"x": -4}
// CALL: POST /pick {"x": -5}
// CALL: POST /pick {"x": -6}
// CALL: GET /log {}
// CALL: POST /loop {"x": 7}
// CALL: POST /loop {"x": -2}
// CALL: POST /loop {"x": -4}
// CALL: GET /log {}
// CALL: POST /in-handler {"x": 3}
// CALL: POST /in-handler {"x": -5}
// CALL: POST /in-handler {"x": -11}
// CALL: POST /in-handler {"x": 1}
// CALL: GET /log {}
// CALL: POST /handler-throws {"x": 5}
// CALL: POST /handler-throws {"x": -1}
// CALL: POST /handler-throws {"x": -4}
// CALL: GET /log {}
// CALL: POST /through {"x": 2}
// CALL: POST /through {"x": -1}
// CALL: POST /through {"x": -4}
// CALL: GET /log {}
// CALL: POST /uncaught {"x": 2}
// CALL: POST /uncaught {"x": -2}
// CALL: POST /uncaught {"x": -4}
// CALL: GET /log {}
// CALL: POST /map {"xs": [1, 2, 3]}
// CALL: POST /map {"xs": [1, -2, -1, 3]}
// CALL: POST /map {"xs": [-4, -1]}
// CALL: POST /map {"xs": [-1, -4]}
// CALL: POST /map {"xs": []}
// CALL: GET /log {}
// CALL: POST /function-try {"x": 3}
// CALL: POST /function-try {"x": -6}
// CALL: POST /function-try {"x": -4}
// CALL: GET /log {}
// CALL: POST /direct {"x": -2}
// CALL: POST /ctor-throws {"x": 3}
// CALL: POST /ctor-throws {"x": 9}
// CALL: POST /ctor-throws {"x": -1}
// CALL: GET /log {}
