//===- early-return.cpp - Returns from inside loops around boundaries ----===//
//
// The example behind test/Lowering/early-return.test. `score` and `charge`
// run as their own functions; the entries call them inside loops (a
// range-for over a vector, a while, two nested for loops) and return from
// the middle of the loop as soon as they know the answer. The PLACE and
// CARRY lines are checked against `cleave build -Rcleave`: every frame
// carries exactly the variables read after its call, on any path, the
// early return included.
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <stdexcept>
#include <string>
#include <vector>

struct Hit {
  bool found = false;
  int index = -1;
  std::string name;
  int tried = 0;
};

CLEAVE_STATE() long searches = 0;

CLEAVE_FUNCTION("memory=2048") int score(std::string name) {
  if (name == "bad")
    throw std::invalid_argument("cannot score 'bad'");
  int s = 0;
  for (char c : name)
    s += static_cast<unsigned char>(c);
  return s % 100;
}

CLEAVE_FUNCTION("memory=512") int charge(int cost) {
  if (cost < 0)
    throw std::invalid_argument("negative cost");
  return cost + cost / 10;
}

/// The first name that scores at least \p threshold.
CLEAVE_ENTRY("POST /first") Hit first(std::vector<std::string> names, int threshold) {
  Hit h;
  int tried = 0;
  int index = 0;
  ++searches;
  for (const std::string &n : names) {
    int s = score(n);
    // PLACE: early-return.cpp:[[@LINE-1]]:13: remark: 'score' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: early-return.cpp:[[@LINE-2]]:13: remark: 6 values cross the boundary at {{.*}}early-return.cpp:[[@LINE-2]]:13: names (std::vector<std::string>), threshold (int), h (Hit), tried (int), index (int), n.index (std::size_t) [-Rcleave]
    ++tried;
    if (s >= threshold) {
      h.found = true;
      h.index = index;
      h.name = n;
      h.tried = tried;
      return h;
    }
    ++index;
  }
  h.tried = tried;
  return h;
}

/// How much the costs add up to, charged one by one; minus the number of
/// costs paid when the next one would go over \p limit.
CLEAVE_ENTRY("POST /budget") int budget(std::vector<int> costs, int limit) {
  int spent = 0;
  int i = 0;
  int last = 0; // written after the call before it is read
  while (i < (int)costs.size()) {
    int c = charge(costs[i]);
    // PLACE: early-return.cpp:[[@LINE-1]]:13: remark: 'charge' runs as its own function: memory 512 MiB vs 256 MiB [-Rcleave]
    // CARRY: early-return.cpp:[[@LINE-2]]:13: remark: 4 values cross the boundary at {{.*}}early-return.cpp:[[@LINE-2]]:13: costs (std::vector<int>), limit (int), spent (int), i (int) [-Rcleave]
    last = c;
    if (spent + last > limit)
      return -i;
    spent += last;
    ++i;
  }
  ++searches;
  return spent;
}

/// The first pair of positions whose sum charges exactly \p target.
CLEAVE_ENTRY("POST /pair") std::vector<int> pair(std::vector<int> xs, int target) {
  int n = (int)xs.size();
  for (int a = 0; a < n; ++a)
    for (int b = a + 1; b < n; ++b) {
      if (charge(xs[a] + xs[b]) == target)
        // PLACE: early-return.cpp:[[@LINE-1]]:11: remark: 'charge' runs as its own function: memory 512 MiB vs 256 MiB [-Rcleave]
        // CARRY: early-return.cpp:[[@LINE-2]]:11: remark: 5 values cross the boundary at {{.*}}early-return.cpp:[[@LINE-2]]:11: xs (std::vector<int>), target (int), n (int), a (int), b (int) [-Rcleave]
        return {a, b};
    }
  return {};
}

CLEAVE_ENTRY("GET /searches") long searches_so_far() { return searches; }

int main() {
  Hit h = first({"ann", "bob", "cy"}, 50);
  return h.found ? 0 : 1;
}
