//===- driver.cpp - Run the counter scenario against the monolith ---------===//
//
// The reference side of the differential test (test/e2e/difftest.py): reads
// scenario lines ({"method", "path", "args"}) from stdin, calls the entry
// function directly, and prints {"status", "body"} per call, as the
// deployment would answer over HTTP. Arguments are decoded and results
// encoded by hand, not by Cleave's generated code, so that the two sides
// stay independent.
//
//===----------------------------------------------------------------------===//

#define main counter_example_main
#include "counter.cpp"
#undef main

#include "../driver.h"

namespace {

Json encode(const Tally &T) { return {{"total", T.total}, {"mine", T.mine}}; }

Json encode(const Summary &S) {
  Json PerName = Json::object();
  for (const auto &[Name, N] : S.per_name)
    PerName[Name] = N;
  return {{"total", S.total}, {"people", S.people}, {"per_name", PerName}};
}

/// Decodes the arguments of one scenario line and returns the call itself.
/// Decoding happens before the call so that a broken scenario line is
/// reported as such, not mistaken for a 500.
Call decodeCall(const std::string &Route, const Json &Args) {
  if (Route == "POST /increment") {
    auto By = Args.at("by").get<long>();
    auto Who = Args.at("who").get<std::string>();
    return [=] { return Reply{200, encode(increment(By, Who))}; };
  }
  if (Route == "GET /count") {
    auto WithNames = Args.at("with_names").get<bool>();
    auto AtLeast = Args.at("at_least").get<long>();
    return [=] { return Reply{200, encode(count(WithNames, AtLeast))}; };
  }
  if (Route == "GET /mine") {
    auto Who = Args.at("who").get<std::string>();
    return [=] { return Reply{200, mine(Who)}; };
  }
  if (Route == "PUT /person") {
    auto Who = Args.at("who").get<std::string>();
    auto Value = Args.at("value").get<long>();
    return [=] {
      set_count(Who, Value);
      return Reply{204, nullptr};
    };
  }
  if (Route == "DELETE /person") {
    auto Who = Args.at("who").get<std::string>();
    return [=] { return Reply{200, forget(Who)}; };
  }
  if (Route == "POST /reset") {
    return [] {
      reset();
      return Reply{204, nullptr};
    };
  }
  throw std::runtime_error("no such route in the counter example: " + Route);
}

} // namespace

int main() { return runScenario(decodeCall); }
