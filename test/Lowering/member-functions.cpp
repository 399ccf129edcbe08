// Member functions that reach a boundary run as steps: their machine is a
// member function that cleave adds to the class in the unit's rewritten
// copy, so the body finds the class's names (a private type alias, a
// static constant), reaches its private members, and `this` is the object.
// The object travels as an in-out parameter: copied in with the call, and
// back to the caller's variable whole when the function returns or throws
// (for a const member function, copied in only). A member function calling
// another on its own object gets it back too. Static member functions,
// const ones, objects whose destructor has effects.
// RUN: rm -rf %t
// RUN: %python %S/lowerdiff.py %s --work %t --include %cleave_include | FileCheck %s
// CHECK: difftest member-functions: 11 calls agree (10 x 200, 1 x 500)

#include <cleave/cleave.h>

#include <stdexcept>
#include <string>
#include <vector>

CLEAVE_STATE() std::string log_ = "";

CLEAVE_FUNCTION("memory=2048") int quote(int x) {
  log_ += "q" + std::to_string(x) + ";";
  if (x > 100)
    throw std::out_of_range("no quote for " + std::to_string(x));
  return x * 3;
}

class Shop {
public:
  explicit Shop(std::string n) : name(std::move(n)) {}
  ~Shop() { log_ += "~" + name + ";"; }
  int buy(int x);
  int checkout(const std::vector<int> &xs) {
    int sum = 0;
    for (int x : xs)
      sum += buy(x);
    items.push_back("checkout");
    return sum + total;
  }
  int peek() const { return quote(total % 50) + static_cast<int>(items.size()); }
  static int fee(int x) { return quote(x) + kFee; }
  std::string show() const {
    std::string s = name + ":" + std::to_string(total);
    for (const Item &i : items)
      s += "," + i;
    return s;
  }

private:
  static constexpr int kFee = 7;
  using Item = std::string;
  std::string name;
  int total = 0;
  std::vector<Item> items;
};

int Shop::buy(int x) {
  Item it = "i" + std::to_string(x);
  items.push_back(it + "?");
  int q = quote(x);
  total += q;
  items.back() = it;
  return q;
}

CLEAVE_ENTRY("POST /shop") std::string shop(int x) {
  Shop s("corner");
  int r = s.buy(x);
  int c = s.checkout({x, x + 1});
  int p = s.peek();
  int f = Shop::fee(x);
  return s.show() + "|" + std::to_string(r) + "," + std::to_string(c) + "," +
         std::to_string(p) + "," + std::to_string(f);
}

// The exception leaves buy after it changed the object: the change is seen
// by the caller's handler, as in the plain program.
CLEAVE_ENTRY("POST /partial") std::string partial(int x) {
  Shop s("partial");
  try {
    s.buy(x);
    s.buy(x + 200);
  } catch (const std::exception &e) {
    return s.show() + "|" + e.what();
  }
  return s.show();
}

CLEAVE_ENTRY("POST /uncaught") int uncaught(int x) {
  Shop s("lost");
  return s.buy(x + 500);
}

// Composition: a member function calls member functions of its own
// members and of elements of them, which come back in place. (A standard
// container of a class with a destructor of its own does not travel, so
// the tills are plain.)
struct Till {
  int cash = 0;
  int take(int x) {
    cash += quote(x);
    return cash;
  }
};

class Store {
public:
  Store() : main_("main"), tills_(2) {}
  int restock(int x) {
    int r = main_.buy(x);
    for (size_t i = 0; i < tills_.size(); ++i)
      r += tills_[i].take(x + static_cast<int>(i));
    return r + main_.peek();
  }
  std::string show() const {
    return main_.show() + "/" + std::to_string(tills_[0].cash) + "/" +
           std::to_string(tills_[1].cash);
  }

private:
  Shop main_;
  std::vector<Till> tills_;
};

CLEAVE_ENTRY("POST /store") std::string store(int x) {
  Store s;
  int r = s.restock(x);
  std::vector<Till> more(1);
  r += more[0].take(x);
  return s.show() + "|" + std::to_string(more[0].cash) + "|" +
         std::to_string(r);
}

CLEAVE_ENTRY("GET /log") std::string log() { return log_; }

// CALL: POST /shop {"x": 2}
// CALL: GET /log {}
// CALL: POST /shop {"x": 9}
// CALL: POST /partial {"x": 4}
// CALL: POST /partial {"x": 150}
// CALL: GET /log {}
// CALL: POST /uncaught {"x": 1}
// CALL: GET /log {}
// CALL: POST /shop {"x": 0}
// CALL: POST /store {"x": 5}
// CALL: GET /log {}
