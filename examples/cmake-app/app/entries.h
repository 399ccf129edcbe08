// The program's entries, callable from main() and, deployed, over HTTP.
#pragma once

#include "inventory/catalog.h"

#include <vector>

inventory::Item add(std::string name, int qty);
inventory::Item item(std::string name);
std::vector<inventory::Item> all();
