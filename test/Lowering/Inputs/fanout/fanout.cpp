//===- fanout.cpp - cleave::parallel_map as a boundary -------------------===//
//
// The example behind test/Lowering/parallel-map.test. Every
// cleave::parallel_map call fans out (one invocation of the function per
// element) and joins; the caller stops there like at any boundary, and its
// frame carries what it reads after the join: not the input, when the input
// is not read again. One fan-out walks a local vector that is always empty,
// one runs in a loop. The PLACE and CARRY lines are checked against
// `cleave build -Rcleave`.
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <stdexcept>
#include <string>
#include <vector>

struct Weighed {
  std::string name;
  int weight = 0;
};

CLEAVE_STATE() long fanned = 0;

CLEAVE_FUNCTION("memory=1024") int square(int x) {
  if (x > 1000)
    throw std::out_of_range("too big to square");
  return x * x;
}

CLEAVE_FUNCTION("memory=1024") Weighed weigh(std::string name) {
  return {name + "!", static_cast<int>(name.size())};
}

CLEAVE_ENTRY("POST /squares")
std::vector<int> squares(std::vector<int> xs, int bias, int unused) {
  int before = bias * 2;      // read after the join
  int dead = (int)xs.size();  // never read again
  std::vector<int> ys = cleave::parallel_map(xs, square);
  // PLACE: fanout.cpp:[[@LINE-1]]:25: remark: 'square' fans out: one invocation per element, then a join that restores input order [-Rcleave]
  // CARRY: fanout.cpp:[[@LINE-2]]:25: remark: 1 value crosses the boundary at {{.*}}fanout.cpp:[[@LINE-2]]:25: before (int) [-Rcleave]
  for (int &y : ys)
    y += before;
  ++fanned;
  return ys;
}

/// A fan-out over nothing: no invocation runs, and the join is immediate.
CLEAVE_ENTRY("POST /none") int none(int k) {
  std::vector<int> empty;
  std::vector<int> got = cleave::parallel_map(empty, square);
  // PLACE: fanout.cpp:[[@LINE-1]]:26: remark: 'square' fans out: one invocation per element, then a join that restores input order [-Rcleave]
  // CARRY: fanout.cpp:[[@LINE-2]]:26: remark: 1 value crosses the boundary at {{.*}}fanout.cpp:[[@LINE-2]]:26: k (int) [-Rcleave]
  ++fanned;
  return (int)got.size() * 100 + k;
}

/// A fan-out in every turn of a loop; the input changes between turns.
CLEAVE_ENTRY("POST /rounds") long rounds(std::vector<int> xs, int n) {
  long total = 0;
  for (int r = 0; r < n; ++r) {
    std::vector<int> sq = cleave::parallel_map(xs, square);
    // PLACE: fanout.cpp:[[@LINE-1]]:27: remark: 'square' fans out: one invocation per element, then a join that restores input order [-Rcleave]
    // CARRY: fanout.cpp:[[@LINE-2]]:27: remark: 4 values cross the boundary at {{.*}}fanout.cpp:[[@LINE-2]]:27: xs (std::vector<int>), n (int), total (long), r (int) [-Rcleave]
    for (int v : sq)
      total += v;
    for (int &x : xs)
      x += r + 1;
  }
  return total;
}

/// A fan-out with a struct result, then a second one over its names.
CLEAVE_ENTRY("POST /weights")
std::vector<Weighed> weights(std::vector<std::string> names, std::string tag) {
  std::vector<Weighed> first = cleave::parallel_map(names, weigh);
  // PLACE: fanout.cpp:[[@LINE-1]]:32: remark: 'weigh' fans out: one invocation per element, then a join that restores input order [-Rcleave]
  // CARRY: fanout.cpp:[[@LINE-2]]:32: remark: 1 value crosses the boundary at {{.*}}fanout.cpp:[[@LINE-2]]:32: tag (std::string) [-Rcleave]
  std::vector<std::string> again;
  for (const Weighed &w : first)
    again.push_back(w.name + tag);
  std::vector<Weighed> second = cleave::parallel_map(again, weigh);
  // PLACE: fanout.cpp:[[@LINE-1]]:33: remark: 'weigh' fans out: one invocation per element, then a join that restores input order [-Rcleave]
  // CARRY: fanout.cpp:[[@LINE-2]]:33: remark: 1 value crosses the boundary at {{.*}}fanout.cpp:[[@LINE-2]]:33: first (std::vector<Weighed>) [-Rcleave]
  for (size_t i = 0; i < second.size(); ++i)
    second[i].weight += first[i].weight;
  return second;
}

CLEAVE_ENTRY("GET /fanned") long fanned_so_far() { return fanned; }

int main() {
  std::vector<int> ys = squares({1, 2, 3}, 1, 0);
  return ys.size() == 3 ? 0 : 1;
}
