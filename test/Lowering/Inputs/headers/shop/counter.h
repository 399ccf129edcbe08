// A class defined in a header, whose member functions reach boundaries
// (header-classes.cpp). Included twice, once through shop.h.
#pragma once
#include "money.h"
#include <string>
#include <vector>

namespace shop {
class Counter {
public:
  explicit Counter(std::string name) : name_(std::move(name)) {}
  long add(long x); // defined in the source file, reaches a boundary
  long total() const;
  static long scaled(long x);

  struct Till {
    long take(long x); // a nested class's member, too
    long held = 0;
  };

private:
  std::string name_;
  long total_ = 0;
  std::vector<Money> seen_;
};
} // namespace shop
