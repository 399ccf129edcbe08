// The state, and a helper that reaches a boundary.
#include "prices.h"

std::map<std::string, long> stock = {{"apple", 10}};

long restock(const std::string &item, long qty) {
  long cost = quote(qty);
  stock[item] += qty;
  return cost;
}
