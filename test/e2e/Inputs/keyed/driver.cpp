//===- driver.cpp - Run the keyed scenario against the monolith ----------===//
//
// The reference side of the differential test (test/e2e/difftest.py): calls
// the entries of keyed.cpp directly and prints {"status", "body"} per
// scenario line.
//
//===----------------------------------------------------------------------===//

#define main keyed_example_main
#include "keyed.cpp"
#undef main

#include "../../../../examples/driver.h"

namespace {

Call decodeCall(const std::string &Route, const Json &Args) {
  auto Name = [&] { return Args.at("name").get<std::string>(); };
  if (Route == "GET /shelf")
    return [N = Name()] {
      Shelf S = shelf(N);
      return Reply{200, Json{{"count", S.count}, {"aisle", S.aisle}}};
    };
  if (Route == "POST /stock") {
    auto Count = Args.at("n").get<int>();
    auto Aisle = Args.at("aisle").get<std::string>();
    return [=, N = Name()] { return Reply{200, stock(N, Count, Aisle)}; };
  }
  if (Route == "POST /take") {
    auto Count = Args.at("n").get<int>();
    return [=, N = Name()] { return Reply{200, take(N, Count)}; };
  }
  if (Route == "DELETE /shelf")
    return [N = Name()] { return Reply{200, drop(N)}; };
  if (Route == "GET /has")
    return [N = Name()] { return Reply{200, has(N)}; };
  if (Route == "POST /restock")
    return [N = Name()] { return Reply{200, restock(N)}; };
  if (Route == "POST /sell")
    return [N = Name()] { return Reply{200, sell(N)}; };
  if (Route == "GET /views")
    return [N = Name()] { return Reply{200, views_of(N)}; };
  throw std::runtime_error("no such route in the keyed example: " + Route);
}

} // namespace

int main() { return runScenario(decodeCall); }
