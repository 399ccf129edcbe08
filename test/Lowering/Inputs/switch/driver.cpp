//===- driver.cpp - Run the switch scenario against the monolith ----------===//
//
// The reference side of the differential test (test/e2e/difftest.py): calls
// the entries of switch.cpp directly, as examples/*/driver.cpp do, and
// prints {"status", "body"} per scenario line.
//
//===----------------------------------------------------------------------===//

#define main switch_example_main
#include "switch.cpp"
#undef main

#include "../../../../examples/driver.h"

namespace {

Json encode(const Outcome &O) {
  return {{"route", O.route}, {"total", O.total}, {"calls", O.calls}};
}

Call decodeCall(const std::string &Route, const Json &Args) {
  if (Route == "POST /route") {
    const Json &J = Args.at("t");
    Ticket T;
    T.kind = J.at("kind").get<std::string>();
    T.amount = J.at("amount").get<int>();
    auto Mode = Args.at("mode").get<int>();
    auto Bonus = Args.at("bonus").get<int>();
    return [=] { return Reply{200, encode(route(T, Mode, Bonus))}; };
  }
  if (Route == "POST /bucket") {
    auto Amount = Args.at("amount").get<int>();
    auto A = Args.at("a").get<std::string>();
    auto B = Args.at("b").get<std::string>();
    auto C = Args.at("c").get<std::string>();
    return [=] { return Reply{200, bucket(Amount, A, B, C)}; };
  }
  if (Route == "GET /handled")
    return [] { return Reply{200, handled_count()}; };
  throw std::runtime_error("no such route in the switch example: " + Route);
}

} // namespace

int main() { return runScenario(decodeCall); }
