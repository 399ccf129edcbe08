//===- driver.h - Scenario loop shared by the examples' drivers -*- C++ -*-===//
//
// The reference side of the differential tests (test/e2e/difftest.py): each
// example's driver.cpp includes the example, decodes the arguments of a
// scenario line by hand (not with Cleave's generated code, so the two sides
// stay independent) and hands back the call; runScenario reads the lines
// ({"method", "path", "args"}) from stdin and prints {"status", "body"} per
// call, as the deployment would answer over HTTP.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_EXAMPLES_DRIVER_H
#define CLEAVE_EXAMPLES_DRIVER_H

#include <nlohmann/json.hpp>

#include <charconv>
#include <functional>
#include <optional>
#include <iostream>
#include <string>

using Json = nlohmann::json;

/// What a call answers: the HTTP status and body the deployment must send.
struct Reply {
  int Status = 0;
  Json Body;
};
/// An integer parameter of a GET, as the deployment reads the query value:
/// a JSON integer is sent as its decimal text, a string as it is, and the
/// text must be a decimal integer in T's range. Anything else (or a missing
/// parameter, null) is refused.
template <class T> std::optional<T> queryInt(const Json *J) {
  std::string Text;
  if (!J)
    return std::nullopt;
  if (J->is_number_integer())
    Text = J->dump();
  else if (J->is_string())
    Text = J->get<std::string>();
  else
    return std::nullopt;
  T V = 0;
  const char *End = Text.data() + Text.size();
  auto [Ptr, Ec] = std::from_chars(Text.data(), End, V);
  if (Text.empty() || Ec != std::errc() || Ptr != End)
    return std::nullopt;
  return V;
}

using Call = std::function<Reply()>;

/// Decodes one line's arguments for "METHOD /path" and returns the call.
/// Decoding happens before the call so that a broken scenario line is
/// reported as such (exit 2), not mistaken for a 500.
using CallDecoder = Call (*)(const std::string &Route, const Json &Args);

inline int runScenario(CallDecoder Decode) {
  std::string Line;
  unsigned LineNo = 0;
  while (std::getline(std::cin, Line)) {
    ++LineNo;
    if (Line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    Call C;
    try {
      Json J = Json::parse(Line);
      C = Decode(J.at("method").get<std::string>() + " " +
                     J.at("path").get<std::string>(),
                 J.value("args", Json::object()));
    } catch (const std::exception &E) {
      std::cerr << "scenario line " << LineNo << ": " << E.what() << "\n";
      return 2;
    }
    Reply R;
    try {
      R = C();
    } catch (...) {
      R = {500, nullptr}; // What escapes user code is a 500 in a deployment.
    }
    // Flushed per call, so that the driver can also be used interactively.
    std::cout << Json{{"status", R.Status}, {"body", R.Body}}.dump()
              << std::endl;
  }
  return 0;
}

#endif // CLEAVE_EXAMPLES_DRIVER_H
