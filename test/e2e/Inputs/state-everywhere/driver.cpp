//===- driver.cpp - Run the state-everywhere scenario against the monolith ===//
//
// The reference side of the differential test (test/e2e/difftest.py): calls
// the entries of state-everywhere.cpp directly and prints {"status",
// "body"} per scenario line.
//
//===----------------------------------------------------------------------===//

#define main state_everywhere_main
#include "state-everywhere.cpp"
#undef main

#include "../../../../examples/driver.h"

#include <memory>

namespace {

Json toJson(const Snapshot &S) {
  return Json{{"visits", S.visits},   {"tags", S.tags},
              {"tally", S.tally},     {"hits", S.hits},
              {"boxed", S.boxed},     {"opened", S.opened},
              {"closed", S.closed},   {"default_qty", S.default_qty},
              {"ordered", S.ordered}, {"lambdas", S.lambdas},
              {"areas", S.areas},     {"pointed", S.pointed},
              {"functions", S.functions}, {"apples", S.apples},
              {"stamped", S.stamped}};
}

Call decodeCall(const std::string &Route, const Json &Args) {
  auto Long = [&](const char *Name) { return Args.at(Name).get<long>(); };
  if (Route == "GET /snapshot")
    return [] { return Reply{200, toJson(snapshot())}; };
  if (Route == "POST /visit")
    return [] { return Reply{200, visit_twice()}; };
  if (Route == "POST /tag")
    return [K = Args.at("key").get<std::string>()] {
      return Reply{200, tag_it(K)};
    };
  if (Route == "POST /tally")
    return [N = Long("n")] { return Reply{200, tally_up(N)}; };
  if (Route == "POST /hits")
    return [N = Long("n")] { return Reply{200, hit(N)}; };
  if (Route == "POST /box")
    return [N = Long("n")] { return Reply{200, box(N)}; };
  if (Route == "POST /close")
    return [] { return Reply{200, close_one()}; };
  if (Route == "POST /scope")
    return [F = Args.at("fail").get<bool>()] { return Reply{200, scoped(F)}; };
  if (Route == "POST /default")
    return [Q = Args.at("qty").get<int>()] {
      return Reply{200, with_default(Q)};
    };
  if (Route == "POST /lambda")
    return [N = Long("n")] { return Reply{200, with_lambda(N)}; };
  if (Route == "POST /shape")
    return [N = Long("side")] { return Reply{200, shape(N)}; };
  if (Route == "POST /pointer")
    return [N = Long("n")] { return Reply{200, through_pointer(N)}; };
  if (Route == "POST /function")
    return [N = Long("n")] { return Reply{200, through_function(N)}; };
  if (Route == "POST /shelf")
    return [I = Args.at("item").get<std::string>(), N = Long("n")] {
      return Reply{200, shelf(I, N)};
    };
  if (Route == "POST /stamp") {
    // The caller makes the parameter (its constructor writes state) when
    // it decodes the request, before the call.
    auto S = std::make_shared<Stamp>();
    S->label = Args.at("s").at("label").get<std::string>();
    return [S] { return Reply{200, stamp(*S)}; };
  }
  if (Route == "POST /stamp_far") {
    auto S = std::make_shared<Stamp>();
    S->label = Args.at("s").at("label").get<std::string>();
    return [S] { return Reply{200, stamp_far(*S)}; };
  }
  throw std::runtime_error("no such route in state-everywhere: " + Route);
}

} // namespace

int main() { return runScenario(decodeCall); }
