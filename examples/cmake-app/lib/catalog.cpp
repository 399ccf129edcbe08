#include "inventory/catalog.h"

#include <fmt/format.h>
#include <zlib.h>

#include <stdexcept>

namespace inventory {

Item describe(const std::string &name, int qty) {
  if (name.empty())
    throw std::invalid_argument("an item needs a name");
  if (qty < 0)
    throw std::invalid_argument(fmt::format("{}: negative quantity", name));
  Item I;
  I.name = name;
  I.qty = qty;
  I.label = fmt::format("{} x {}", name, qty);
  std::string Key = fmt::format("{}/{}", name, qty);
  uLong Crc = crc32(0L, Z_NULL, 0);
  Crc = crc32(Crc, reinterpret_cast<const Bytef *>(Key.data()),
              static_cast<uInt>(Key.size()));
  I.tag = fmt::format("{:08x}", Crc);
  return I;
}

} // namespace inventory
