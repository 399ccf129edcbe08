//===- driver.cpp - Run the pipeline scenario against the monolith --------===//
//
// The reference side of the differential test (test/e2e/difftest.py): reads
// scenario lines ({"method", "path", "args"}) from stdin, calls the entry
// function directly, and prints {"status", "body"} per call, as the
// deployment would answer over HTTP. Arguments are decoded and results
// encoded by hand, not by Cleave's generated code, so that the two sides
// stay independent.
//
// The scenario also holds arguments that the deployment refuses before the
// entry runs (400): a missing parameter or member, a value of the wrong JSON
// type, an integer out of its type's range, and for GET query text that is
// not an integer. The checks below follow the HTTP convention of
// docs/annotations.md for the types this example uses.
//
//===----------------------------------------------------------------------===//

#define main pipeline_example_main
#include "pipeline.cpp"
#undef main

#include "../driver.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>

namespace {

Json encode(const Report &R) {
  return {{"name", R.name},
          {"total", R.total},
          {"rounds", R.rounds},
          {"per_round", R.per_round},
          {"trace", R.trace}};
}

Json encode(const Found &F) {
  return {{"found", F.found},
          {"index", F.index},
          {"name", F.name},
          {"tried", F.tried}};
}

Json encode(const Grid &G) {
  return {{"rows", G.rows},
          {"total", G.total},
          {"cells", G.cells},
          {"skipped", G.skipped}};
}

Json encode(const Counters &C) {
  return {{"started", C.started}, {"finished", C.finished}};
}

/// The call of a request whose arguments the deployment refuses: the entry
/// never runs.
Call refused() {
  return [] { return Reply{400, nullptr}; };
}

/// The member named \p Key of \p J, or null when it is absent.
const Json *member(const Json &J, const char *Key) {
  auto It = J.find(Key);
  return It == J.end() ? nullptr : &*It;
}

/// An integer in a JSON body: a JSON integer in T's range, or a floating
/// point number with an integral value in range (3.0 is 3).
template <class T> std::optional<T> bodyInt(const Json *J) {
  if (!J)
    return std::nullopt;
  if (J->is_number_unsigned()) {
    auto U = J->get<std::uint64_t>();
    if (U > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
      return std::nullopt;
    return static_cast<T>(U);
  }
  if (J->is_number_integer()) {
    auto I = J->get<std::int64_t>();
    if (I < std::numeric_limits<T>::min() || I > std::numeric_limits<T>::max())
      return std::nullopt;
    return static_cast<T>(I);
  }
  if (J->is_number_float()) {
    double D = J->get<double>();
    if (std::trunc(D) == D &&
        D >= static_cast<double>(std::numeric_limits<T>::min()) &&
        D <= static_cast<double>(std::numeric_limits<T>::max()))
      return static_cast<T>(D);
  }
  return std::nullopt;
}

/// A double in a JSON body: any JSON number.
std::optional<double> bodyNumber(const Json *J) {
  if (!J || !J->is_number())
    return std::nullopt;
  return J->get<double>();
}

std::optional<Job> bodyJob(const Json *J) {
  if (!J || !J->is_object())
    return std::nullopt;
  const Json *Name = member(*J, "name");
  std::optional<long> Base = bodyInt<long>(member(*J, "base"));
  const Json *Factors = member(*J, "factors");
  if (!Name || !Name->is_string() || !Base || !Factors || !Factors->is_array())
    return std::nullopt;
  Job Result;
  Result.name = Name->get<std::string>();
  Result.base = *Base;
  for (const Json &F : *Factors) {
    std::optional<int> Factor = bodyInt<int>(&F);
    if (!Factor)
      return std::nullopt;
    Result.factors.push_back(*Factor);
  }
  return Result;
}

std::optional<std::vector<Job>> bodyJobs(const Json *J) {
  if (!J || !J->is_array())
    return std::nullopt;
  std::vector<Job> Jobs;
  for (const Json &E : *J) {
    std::optional<Job> One = bodyJob(&E);
    if (!One)
      return std::nullopt;
    Jobs.push_back(*One);
  }
  return Jobs;
}

/// A string parameter of a GET: the query value as it is. Only strings are
/// taken from the scenario, so that no JSON text has to be reproduced here.
std::optional<std::string> queryString(const Json *J) {
  if (!J)
    return std::nullopt;
  if (!J->is_string())
    throw std::runtime_error("give GET string arguments as JSON strings");
  return J->get<std::string>();
}

/// Decodes the arguments of one scenario line and returns the call itself.
/// Decoding happens before the call so that a broken scenario line is
/// reported as such, not mistaken for a 500.
Call decodeCall(const std::string &Route, const Json &Args) {
  if (Route == "POST /run") {
    std::optional<Job> J = bodyJob(member(Args, "job"));
    std::optional<int> Rounds = bodyInt<int>(member(Args, "rounds"));
    if (!J || !Rounds)
      return refused();
    return [=] { return Reply{200, encode(run(*J, *Rounds))}; };
  }
  if (Route == "POST /first-over") {
    std::optional<std::vector<Job>> Jobs = bodyJobs(member(Args, "jobs"));
    std::optional<double> Threshold = bodyNumber(member(Args, "threshold"));
    if (!Jobs || !Threshold)
      return refused();
    return [=] { return Reply{200, encode(first_over(*Jobs, *Threshold))}; };
  }
  if (Route == "POST /grid") {
    std::optional<std::vector<Job>> Jobs = bodyJobs(member(Args, "jobs"));
    std::optional<int> Rounds = bodyInt<int>(member(Args, "rounds"));
    if (!Jobs || !Rounds)
      return refused();
    return [=] { return Reply{200, encode(grid(*Jobs, *Rounds))}; };
  }
  if (Route == "POST /until") {
    std::optional<Job> J = bodyJob(member(Args, "job"));
    std::optional<double> Target = bodyNumber(member(Args, "target"));
    if (!J || !Target)
      return refused();
    return [=] { return Reply{200, encode(until(*J, *Target))}; };
  }
  if (Route == "GET /stage") {
    std::optional<std::string> Name = queryString(member(Args, "name"));
    std::optional<long> Base = queryInt<long>(member(Args, "base"));
    std::optional<int> Factor = queryInt<int>(member(Args, "factor"));
    std::optional<int> Round = queryInt<int>(member(Args, "round"));
    if (!Name || !Base || !Factor || !Round)
      return refused();
    return [=] { return Reply{200, stage_of(*Name, *Base, *Factor, *Round)}; };
  }
  if (Route == "GET /best") {
    std::optional<std::string> Name = queryString(member(Args, "name"));
    if (!Name)
      return refused();
    return [=] { return Reply{200, best_of(*Name)}; };
  }
  if (Route == "GET /counters")
    return [] { return Reply{200, encode(counters())}; };
  throw std::runtime_error("no such route in the pipeline example: " + Route);
}

} // namespace

int main() { return runScenario(decodeCall); }
