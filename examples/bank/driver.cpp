//===- driver.cpp - Run the bank scenario against the monolith ------------===//
//
// The reference side of the differential test (test/e2e/difftest.py): reads
// scenario lines ({"method", "path", "args"}) from stdin, calls the entry
// function directly, and prints {"status", "body"} per call, as the
// deployment would answer over HTTP. Arguments are decoded and results
// encoded by hand, not by Cleave's generated code, so that the two sides
// stay independent.
//
// The scenario also holds transfers that the deployment refuses before the
// entry runs (400): a missing parameter, an amount that is a string, and
// one out of long's range, checked below as docs/annotations.md says.
//
//===----------------------------------------------------------------------===//

#define main bank_example_main
#include "bank.cpp"
#undef main

#include "../driver.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

namespace {

Json encode(const Receipt &R) {
  return {{"id", R.id}, {"ok", R.ok}, {"seq", R.seq}};
}

Json encode(const Audit &A) {
  return {{"seq", A.seq},   {"id", A.id},         {"from", A.from},
          {"to", A.to},     {"amount", A.amount}};
}

Json encode(const std::map<std::string, long> &Balances) {
  Json J = Json::object();
  for (const auto &[Name, Balance] : Balances)
    J[Name] = Balance;
  return J;
}

Json encode(const std::vector<Audit> &Log) {
  Json J = Json::array();
  for (const Audit &A : Log)
    J.push_back(encode(A));
  return J;
}

/// The call of a request whose arguments the deployment refuses: the entry
/// never runs.
Call refused() {
  return [] { return Reply{400, nullptr}; };
}

/// A string member of a JSON body, or nothing when absent or not a string.
std::optional<std::string> bodyString(const Json &Args, const char *Key) {
  auto It = Args.find(Key);
  if (It == Args.end() || !It->is_string())
    return std::nullopt;
  return It->get<std::string>();
}

/// A long member of a JSON body: a JSON integer in range, or a floating
/// point number with an integral value in range (3.0 is 3).
std::optional<long> bodyLong(const Json &Args, const char *Key) {
  auto It = Args.find(Key);
  if (It == Args.end())
    return std::nullopt;
  if (It->is_number_unsigned()) {
    auto U = It->get<std::uint64_t>();
    if (U > static_cast<std::uint64_t>(std::numeric_limits<long>::max()))
      return std::nullopt;
    return static_cast<long>(U);
  }
  if (It->is_number_integer())
    return It->get<long>();
  if (It->is_number_float()) {
    double D = It->get<double>();
    if (std::trunc(D) == D &&
        D >= static_cast<double>(std::numeric_limits<long>::min()) &&
        D < static_cast<double>(std::numeric_limits<long>::max()))
      return static_cast<long>(D);
  }
  return std::nullopt;
}

/// Decodes the arguments of one scenario line and returns the call itself.
Call decodeCall(const std::string &Route, const Json &Args) {
  if (Route == "POST /transfer") {
    auto Id = bodyString(Args, "id");
    auto From = bodyString(Args, "from");
    auto To = bodyString(Args, "to");
    auto Amount = bodyLong(Args, "amount");
    if (!Id || !From || !To || !Amount)
      return refused();
    return [=] {
      return Reply{200, encode(transfer(*Id, *From, *To, *Amount))};
    };
  }
  if (Route == "GET /balances")
    return [] { return Reply{200, encode(all_balances())}; };
  if (Route == "GET /total")
    return [] { return Reply{200, total()}; };
  if (Route == "GET /audit")
    return [] { return Reply{200, encode(audit())}; };
  throw std::runtime_error("no such route in the bank example: " + Route);
}

} // namespace

int main() { return runScenario(decodeCall); }
