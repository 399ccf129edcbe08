//===- shop.cpp - The shop of DESIGN.md, section 1 ------------------------===//
//
// Orders against a stock of fruit. `quote` has its own resource profile, so
// in the deployment every entry that calls it is cut at that call; a batch of
// orders is priced with `cleave::parallel_map`, a fan-out. `stock` is used
// only through keyed accesses, `orders_seen` is eventually consistent.
//
// Prices are rounded to cents, so the monolith and the deployment agree on
// every bit of them. Every entry prices and checks its orders before it
// changes any state: an exception (a 500 in the deployment) changes nothing.
//
//===----------------------------------------------------------------------===//

#include <cleave/cleave.h>

#include <cmath>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct Address {
  std::string street;
  std::string city;
  int zip = 0;
};

struct Order {
  std::string item;
  int qty = 0;
  std::string customer;
  std::optional<std::string> note; // may be absent or null
  std::optional<Address> ship_to;  // picked up in the shop when absent
};

struct Confirmation {
  bool ok = false;
  double price = 0;
  long order_no = 0;
  std::optional<std::string> note;
  std::vector<std::string> warnings;
};

struct Item {
  std::string name;
  double unit_price = 0;
  int in_stock = 0;
  bool available = false;
};

CLEAVE_STATE()
std::map<std::string, int> stock = {
    {"apple", 10}, {"pear", 4}, {"plum", 0}, {"kiwi", 25}};
CLEAVE_STATE("consistency=eventual") long orders_seen = 0;

/// The price list: what the shop sells, by name. Not state: it never changes.
static const std::map<std::string, double> &price_list() {
  static const std::map<std::string, double> prices = {
      {"apple", 0.35}, {"kiwi", 0.6}, {"pear", 0.55}, {"plum", 1.2}};
  return prices;
}

static double round_to_cents(double x) { return std::round(x * 100) / 100; }

/// The price of \p o: ten or more of a kind cost 10% less.
CLEAVE_FUNCTION("memory=2048") double quote(const Order &o) {
  if (o.qty <= 0)
    throw std::invalid_argument("quantity must be positive");
  auto it = price_list().find(o.item);
  if (it == price_list().end())
    throw std::invalid_argument("we do not sell '" + o.item + "'");
  double price = it->second * o.qty;
  if (o.qty >= 10)
    price *= 0.9;
  return round_to_cents(price);
}

/// What is wrong with where \p o is to be shipped, if anything.
static std::vector<std::string> shipping_warnings(const Order &o) {
  std::vector<std::string> w;
  if (!o.ship_to)
    return w;
  if (o.ship_to->city.empty())
    w.push_back("no city given");
  if (o.ship_to->zip <= 0)
    w.push_back("zip code " + std::to_string(o.ship_to->zip) + " is invalid");
  return w;
}

CLEAVE_ENTRY("POST /orders") Confirmation place_order(Order o) {
  double price = quote(o); // a boundary: quote has other resources
  ++orders_seen;
  Confirmation c;
  c.price = price;
  c.note = o.note;
  c.warnings = shipping_warnings(o);
  if (stock[o.item] < o.qty)
    return c;
  stock[o.item] -= o.qty;
  c.ok = true;
  c.order_no = orders_seen;
  return c;
}

/// Places \p orders in order, after pricing all of them: one unknown item
/// fails the whole batch before anything is taken from stock.
CLEAVE_ENTRY("POST /orders/batch")
std::vector<Confirmation> place_orders(std::vector<Order> orders) {
  std::vector<double> prices = cleave::parallel_map(orders, quote);
  std::vector<Confirmation> out;
  for (size_t i = 0; i < orders.size(); ++i) {
    const Order &o = orders[i];
    ++orders_seen;
    Confirmation c;
    c.price = prices[i];
    c.note = o.note;
    c.warnings = shipping_warnings(o);
    if (stock[o.item] >= o.qty) {
      stock[o.item] -= o.qty;
      c.ok = true;
      c.order_no = orders_seen;
    }
    out.push_back(c);
  }
  return out;
}

CLEAVE_ENTRY("GET /quote") double quote_for(std::string item, int qty) {
  Order o;
  o.item = item;
  o.qty = qty;
  return quote(o);
}

CLEAVE_ENTRY("GET /stock") int stock_of(std::string item) {
  return stock[item];
}

CLEAVE_ENTRY("POST /restock") void restock(std::string item, int qty) {
  if (item.empty())
    throw std::invalid_argument("no item given");
  if (qty <= 0)
    throw std::invalid_argument("restock quantity must be positive");
  stock[item] += qty;
}

CLEAVE_ENTRY("GET /catalog") std::vector<Item> catalog() {
  std::vector<Item> items;
  for (const auto &[name, unit_price] : price_list()) {
    Item i;
    i.name = name;
    i.unit_price = unit_price;
    auto it = stock.find(name);
    i.in_stock = it == stock.end() ? 0 : it->second;
    i.available = i.in_stock > 0;
    items.push_back(i);
  }
  return items;
}

int main() {
  Order o;
  o.item = "apple";
  o.qty = 3;
  o.customer = "ann";
  o.note = "leave at the door";
  Confirmation c = place_order(o);
  std::cout << "order " << c.order_no << (c.ok ? " placed" : " refused")
            << ", price " << c.price << "\n";
  restock("pear", 2);
  for (const Item &i : catalog())
    std::cout << "  " << i.name << ": " << i.in_stock << " at " << i.unit_price
              << "\n";
  try {
    o.item = "mango";
    place_order(o);
  } catch (const std::invalid_argument &e) {
    std::cout << "refused: " << e.what() << "\n";
  }
  return 0;
}
