// A boundary in the body of a range-for over a std::vector. The loop walks
// the vector by position, so the frame carries the position
// (`<loop variable>.index`) and the vector; the loop variable is bound again
// from them when the step resumes and does not travel itself.
// RUN: cleave build -Rcleave -q --no-build -o %t %s -- -std=c++17 2> %t.remarks
// RUN: grep -v cross %t.remarks | FileCheck %s --check-prefix=PLACE --implicit-check-not=remark:
// RUN: grep cross %t.remarks | FileCheck %s --check-prefix=CARRY --implicit-check-not=remark:

#include <cleave/cleave.h>

#include <string>
#include <vector>

CLEAVE_FUNCTION("memory=2048") int quote(int x) { return x * 3; }
CLEAVE_FUNCTION("memory=2048") int weigh(const std::string &s) { return (int)s.size(); }

CLEAVE_ENTRY("POST /total") int total(std::vector<int> xs, int scale, int unused) {
  int acc = 0;
  for (int x : xs)
    acc += quote(x) * scale;
  // PLACE: range-for-vector.cpp:[[@LINE-1]]:12: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: range-for-vector.cpp:[[@LINE-2]]:12: remark: 4 values cross the boundary at {{.*}}range-for-vector.cpp:[[@LINE-2]]:12: xs (std::vector<int>), scale (int), acc (int), x.index (std::size_t) [-Rcleave]
  return acc;
}

// By const reference, over a local vector; the element is read again after
// the call. `words` is not carried a second time for being read directly.
CLEAVE_ENTRY("POST /longest") std::string longest(std::string text) {
  std::vector<std::string> words;
  std::string cur;
  for (char ch : text) {
    if (ch == ' ') {
      words.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  words.push_back(cur);
  std::string best;
  int best_len = -1;
  for (const std::string &w : words) {
    int len = weigh(w);
    // PLACE: range-for-vector.cpp:[[@LINE-1]]:15: remark: 'weigh' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
    // CARRY: range-for-vector.cpp:[[@LINE-2]]:15: remark: 4 values cross the boundary at {{.*}}range-for-vector.cpp:[[@LINE-2]]:15: words (std::vector<std::string>), best (std::string), best_len (int), w.index (std::size_t) [-Rcleave]
    if (len > best_len) {
      best = w + "@" + std::to_string(words.size());
      best_len = len;
    }
  }
  return best;
}

// Writing through the loop variable changes the vector that travels.
CLEAVE_ENTRY("POST /triple") std::vector<int> triple(std::vector<int> xs) {
  for (int &x : xs)
    x = quote(x);
  // PLACE: range-for-vector.cpp:[[@LINE-1]]:9: remark: 'quote' runs as its own function: memory 2048 MiB vs 256 MiB [-Rcleave]
  // CARRY: range-for-vector.cpp:[[@LINE-2]]:9: remark: 2 values cross the boundary at {{.*}}range-for-vector.cpp:[[@LINE-2]]:9: xs (std::vector<int>), x.index (std::size_t) [-Rcleave]
  return xs;
}
