// The entries: each calls quote, a boundary, and restock, which runs as
// steps because it calls quote too.
#include "prices.h"

CLEAVE_ENTRY("POST /order") long order(std::string item, long qty) {
  long price = quote(qty);
  stock[item] -= qty;
  return price + restock(item, 1);
}

CLEAVE_ENTRY("GET /stock") long stock_of(std::string item) {
  return stock[item];
}
