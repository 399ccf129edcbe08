//===- driver.cpp - Run the early-return scenario against the monolith ----===//
//
// The reference side of the differential test (test/e2e/difftest.py): calls
// the entries of early-return.cpp directly, as examples/*/driver.cpp do, and
// prints {"status", "body"} per scenario line.
//
//===----------------------------------------------------------------------===//

#define main early_return_example_main
#include "early-return.cpp"
#undef main

#include "../../../../examples/driver.h"

namespace {

Json encode(const Hit &H) {
  return {{"found", H.found},
          {"index", H.index},
          {"name", H.name},
          {"tried", H.tried}};
}

Call decodeCall(const std::string &Route, const Json &Args) {
  if (Route == "POST /first") {
    auto Names = Args.at("names").get<std::vector<std::string>>();
    auto Threshold = Args.at("threshold").get<int>();
    return [=] { return Reply{200, encode(first(Names, Threshold))}; };
  }
  if (Route == "POST /budget") {
    auto Costs = Args.at("costs").get<std::vector<int>>();
    auto Limit = Args.at("limit").get<int>();
    return [=] { return Reply{200, budget(Costs, Limit)}; };
  }
  if (Route == "POST /pair") {
    auto Xs = Args.at("xs").get<std::vector<int>>();
    auto Target = Args.at("target").get<int>();
    return [=] { return Reply{200, pair(Xs, Target)}; };
  }
  if (Route == "GET /searches")
    return [] { return Reply{200, searches_so_far()}; };
  throw std::runtime_error("no such route in the early-return example: " +
                           Route);
}

} // namespace

int main() { return runScenario(decodeCall); }
