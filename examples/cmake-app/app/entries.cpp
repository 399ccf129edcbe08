#include "entries.h"

#include <cleave/cleave.h>

#include <map>
#include <stdexcept>
#include <string>

CLEAVE_STATE() std::map<std::string, int> stock;

CLEAVE_FUNCTION("memory=1024")
inventory::Item priced(const std::string &name, int qty) {
  return inventory::describe(name, qty);
}

CLEAVE_ENTRY("POST /add") inventory::Item add(std::string name, int qty) {
  if (qty <= 0 || qty > INVENTORY_MAX_QTY)
    throw std::invalid_argument("quantity out of range");
  inventory::Item I = priced(name, stock[name] + qty);
  stock[name] = I.qty;
  return I;
}

CLEAVE_ENTRY("GET /item") inventory::Item item(std::string name) {
  auto It = stock.find(name);
  if (It == stock.end())
    throw std::out_of_range(name + ": no such item");
  return inventory::describe(name, It->second);
}

CLEAVE_ENTRY("GET /items") std::vector<inventory::Item> all() {
  std::vector<inventory::Item> Out;
  for (const auto &[Name, Qty] : stock)
    Out.push_back(inventory::describe(Name, Qty));
  return Out;
}
