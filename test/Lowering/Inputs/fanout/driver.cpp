//===- driver.cpp - Run the fanout scenario against the monolith ----------===//
//
// The reference side of the differential test (test/e2e/difftest.py): calls
// the entries of fanout.cpp directly, as examples/*/driver.cpp do, and
// prints {"status", "body"} per scenario line.
//
//===----------------------------------------------------------------------===//

#define main fanout_example_main
#include "fanout.cpp"
#undef main

#include "../../../../examples/driver.h"

namespace {

Json encode(const std::vector<Weighed> &Ws) {
  Json Out = Json::array();
  for (const Weighed &W : Ws)
    Out.push_back({{"name", W.name}, {"weight", W.weight}});
  return Out;
}

Call decodeCall(const std::string &Route, const Json &Args) {
  if (Route == "POST /squares") {
    auto Xs = Args.at("xs").get<std::vector<int>>();
    auto Bias = Args.at("bias").get<int>();
    auto Unused = Args.at("unused").get<int>();
    return [=] { return Reply{200, squares(Xs, Bias, Unused)}; };
  }
  if (Route == "POST /none") {
    auto K = Args.at("k").get<int>();
    return [=] { return Reply{200, none(K)}; };
  }
  if (Route == "POST /rounds") {
    auto Xs = Args.at("xs").get<std::vector<int>>();
    auto N = Args.at("n").get<int>();
    return [=] { return Reply{200, rounds(Xs, N)}; };
  }
  if (Route == "POST /weights") {
    auto Names = Args.at("names").get<std::vector<std::string>>();
    auto Tag = Args.at("tag").get<std::string>();
    return [=] { return Reply{200, encode(weights(Names, Tag))}; };
  }
  if (Route == "GET /fanned")
    return [] { return Reply{200, fanned_so_far()}; };
  throw std::runtime_error("no such route in the fanout example: " + Route);
}

} // namespace

int main() { return runScenario(decodeCall); }
