// Items of an inventory: what the library knows without any state.
#pragma once

#include <string>

namespace inventory {

struct Item {
  std::string name;
  int qty = 0;
  std::string label; ///< "name x qty"
  std::string tag;   ///< a checksum of the name and quantity, in hex
};

/// \p name with \p qty, labelled and tagged; throws std::invalid_argument
/// for an empty name or a negative quantity.
Item describe(const std::string &name, int qty);

} // namespace inventory
