#include <cleave/cleave.h>

#include <map>
#include <string>

struct Order { std::string item; int qty = 0; };
struct Confirmation { bool ok = false; double price = 0; long order_no = 0; };

CLEAVE_STATE() std::map<std::string, int> stock = {{"apple", 10}};
CLEAVE_STATE("consistency=eventual") long orders_seen = 0;

CLEAVE_FUNCTION("memory=2048") double quote(const Order &o) { return o.qty * 1.5; }

CLEAVE_ENTRY("POST /orders") Confirmation place_order(Order o) {
  double price = quote(o);
  ++orders_seen;
  if (stock[o.item] < o.qty)
    return {false, price, 0};
  stock[o.item] -= o.qty;
  return {true, price, orders_seen};
}

CLEAVE_ENTRY("GET /stock") int stock_of(std::string item) {
  return stock.count(item) ? stock.at(item) : 0;
}

int main() { return place_order({"apple", 1}).ok ? 0 : 1; }
