//===- counter.cpp - Program state shared by several entries --------------===//
//
// A running total and a tally per name, both held in the state store once the
// program is compiled with Cleave. `total` is a scalar; `per_name` is a map
// that is also read and cleared as a whole (GET /count, POST /reset).
//
// Every entry checks its input before it touches state, so an exception
// leaves the state as it was, in the monolith as in the deployment (where a
// failed invocation commits nothing).
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <iostream>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>

struct Tally {
  long total = 0;
  long mine = 0;
};

struct Summary {
  long total = 0;
  long people = 0;
  std::map<std::string, long> per_name; // only those with at least `at_least`
};

CLEAVE_STATE() long total = 0;
CLEAVE_STATE() std::map<std::string, long> per_name;

/// \p a + \p b, throwing instead of overflowing.
static long checked_add(long a, long b) {
  if ((b > 0 && a > std::numeric_limits<long>::max() - b) ||
      (b < 0 && a < std::numeric_limits<long>::min() - b))
    throw std::overflow_error("counter overflow");
  return a + b;
}

/// \p a - \p b, throwing instead of overflowing (-b itself may overflow).
static long checked_sub(long a, long b) {
  if ((b < 0 && a > std::numeric_limits<long>::max() + b) ||
      (b > 0 && a < std::numeric_limits<long>::min() + b))
    throw std::overflow_error("counter overflow");
  return a - b;
}

CLEAVE_ENTRY("POST /increment") Tally increment(long by, std::string who) {
  if (who.empty())
    throw std::invalid_argument("who must not be empty");
  if (by == 0)
    throw std::invalid_argument("by must not be zero");
  long new_total = checked_add(total, by);
  auto it = per_name.find(who);
  long new_mine = checked_add(it == per_name.end() ? 0 : it->second, by);
  total = new_total;
  per_name[who] = new_mine;
  return {new_total, new_mine};
}

CLEAVE_ENTRY("GET /count") Summary count(bool with_names, long at_least) {
  Summary s;
  s.total = total;
  s.people = static_cast<long>(per_name.size());
  if (with_names)
    for (const auto &[name, n] : per_name)
      if (n >= at_least)
        s.per_name[name] = n;
  return s;
}

CLEAVE_ENTRY("GET /mine") long mine(std::string who) {
  auto it = per_name.find(who);
  return it == per_name.end() ? 0 : it->second;
}

/// Sets the tally of \p who to \p value, moving the total along with it.
CLEAVE_ENTRY("PUT /person") void set_count(std::string who, long value) {
  if (who.empty())
    throw std::invalid_argument("who must not be empty");
  auto it = per_name.find(who);
  long old = it == per_name.end() ? 0 : it->second;
  long new_total = checked_add(checked_sub(total, old), value);
  total = new_total;
  per_name[who] = value;
}

/// Forgets \p who and returns the tally that is gone; unknown names throw.
CLEAVE_ENTRY("DELETE /person") long forget(std::string who) {
  long gone = per_name.at(who);
  long new_total = checked_sub(total, gone);
  per_name.erase(who);
  total = new_total;
  return gone;
}

CLEAVE_ENTRY("POST /reset") void reset() {
  total = 0;
  per_name.clear();
}

int main() {
  increment(2, "ann");
  increment(3, "bob");
  Tally t = increment(-1, "ann");
  std::cout << "ann has " << t.mine << ", total " << t.total << "\n";
  Summary s = count(true, 0);
  for (const auto &[name, n] : s.per_name)
    std::cout << "  " << name << ": " << n << "\n";
  std::cout << "forgot bob's " << forget("bob") << "; total "
            << count(false, 0).total << "\n";
  reset();
  std::cout << "after reset: " << count(false, 0).total << "\n";
  return 0;
}
