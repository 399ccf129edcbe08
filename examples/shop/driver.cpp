//===- driver.cpp - Run the shop scenario against the monolith ------------===//
//
// The reference side of the differential test (test/e2e/difftest.py): reads
// scenario lines ({"method", "path", "args"}) from stdin, calls the entry
// function directly, and prints {"status", "body"} per call, as the
// deployment would answer over HTTP. Arguments are decoded and results
// encoded by hand, not by Cleave's generated code, so that the two sides
// stay independent.
//
//===----------------------------------------------------------------------===//

#define main shop_example_main
#include "shop.cpp"
#undef main

#include "../driver.h"

namespace {

Json optionalText(const std::optional<std::string> &S) {
  return S ? Json(*S) : Json(nullptr);
}

Json encode(const Confirmation &C) {
  return {{"ok", C.ok},
          {"price", C.price},
          {"order_no", C.order_no},
          {"note", optionalText(C.note)},
          {"warnings", C.warnings}};
}

Json encode(const Item &I) {
  return {{"name", I.name},
          {"unit_price", I.unit_price},
          {"in_stock", I.in_stock},
          {"available", I.available}};
}

template <class T> Json encode(const std::vector<T> &V) {
  Json A = Json::array();
  for (const T &E : V)
    A.push_back(encode(E));
  return A;
}

/// A member that may be absent or null.
const Json *optionalMember(const Json &J, const char *Key) {
  auto It = J.find(Key);
  return It == J.end() || It->is_null() ? nullptr : &*It;
}

Order decodeOrder(const Json &J) {
  Order O;
  O.item = J.at("item").get<std::string>();
  O.qty = J.at("qty").get<int>();
  O.customer = J.at("customer").get<std::string>();
  if (const Json *Note = optionalMember(J, "note"))
    O.note = Note->get<std::string>();
  if (const Json *To = optionalMember(J, "ship_to")) {
    Address A;
    A.street = To->at("street").get<std::string>();
    A.city = To->at("city").get<std::string>();
    A.zip = To->at("zip").get<int>();
    O.ship_to = A;
  }
  return O;
}

/// Decodes the arguments of one scenario line and returns the call itself.
/// Decoding happens before the call so that a broken scenario line is
/// reported as such, not mistaken for a 500.
Call decodeCall(const std::string &Route, const Json &Args) {
  if (Route == "POST /orders") {
    Order O = decodeOrder(Args.at("o"));
    return [=] { return Reply{200, encode(place_order(O))}; };
  }
  if (Route == "POST /orders/batch") {
    std::vector<Order> Orders;
    for (const Json &J : Args.at("orders"))
      Orders.push_back(decodeOrder(J));
    return [=] { return Reply{200, encode(place_orders(Orders))}; };
  }
  if (Route == "GET /quote") {
    auto ItemName = Args.at("item").get<std::string>();
    auto Qty = Args.at("qty").get<int>();
    return [=] { return Reply{200, quote_for(ItemName, Qty)}; };
  }
  if (Route == "GET /stock") {
    auto ItemName = Args.at("item").get<std::string>();
    return [=] { return Reply{200, stock_of(ItemName)}; };
  }
  if (Route == "POST /restock") {
    auto ItemName = Args.at("item").get<std::string>();
    auto Qty = Args.at("qty").get<int>();
    return [=] {
      restock(ItemName, Qty);
      return Reply{204, nullptr};
    };
  }
  if (Route == "GET /catalog")
    return [] { return Reply{200, encode(catalog())}; };
  throw std::runtime_error("no such route in the shop example: " + Route);
}

} // namespace

int main() { return runScenario(decodeCall); }
