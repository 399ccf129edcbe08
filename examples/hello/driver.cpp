//===- driver.cpp - Run the hello scenario against the monolith -----------===//
//
// The reference side of the differential test (test/e2e/difftest.py): reads
// scenario lines ({"method", "path", "args"}) from stdin, calls the entry
// function directly, and prints {"status", "body"} per call, as the
// deployment would answer over HTTP. Arguments are decoded by hand, not by
// Cleave's generated code, so that the two sides stay independent.
//
//===----------------------------------------------------------------------===//

#define main hello_example_main
#include "hello.cpp"
#undef main

#include "../driver.h"

namespace {

/// Decodes the arguments of one scenario line and returns the call itself.
/// Decoding happens before the call so that a broken scenario line is
/// reported as such, not mistaken for a 500.
Call decodeCall(const std::string &Route, const Json &Args) {
  if (Route == "GET /hello") {
    auto Name = Args.at("name").get<std::string>();
    return [=] { return Reply{200, hello(Name)}; };
  }
  throw std::runtime_error("no such route in the hello example: " + Route);
}

} // namespace

int main() { return runScenario(decodeCall); }
