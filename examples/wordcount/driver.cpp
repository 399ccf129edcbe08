//===- driver.cpp - Run the wordcount scenario against the monolith -------===//
//
// The reference side of the differential test (test/e2e/difftest.py): reads
// scenario lines ({"method", "path", "args"}) from stdin, calls the entry
// function directly, and prints {"status", "body"} per call, as the
// deployment would answer over HTTP. Arguments are decoded and results
// encoded by hand, not by Cleave's generated code, so that the two sides
// stay independent.
//
// The scenario also holds arguments that the deployment refuses before the
// entry runs (400). The checks below mirror only the cases the scenario uses:
// a missing parameter, a value of the wrong JSON type, and for GET query
// text that is not an integer in range.
//
//===----------------------------------------------------------------------===//

#define main wordcount_example_main
#include "wordcount.cpp"
#undef main

#include "../driver.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace {

Json encode(const WordStats &W) {
  return {{"words", W.words}, {"chars", W.chars}, {"longest", W.longest}};
}

Json encode(const Summary &S) {
  return {{"words", S.words},
          {"chars", S.chars},
          {"per_line", S.per_line},
          {"longest", S.longest},
          {"document", S.document}};
}

Json encode(const std::vector<WordCount> &V) {
  Json A = Json::array();
  for (const WordCount &W : V)
    A.push_back({{"word", W.word}, {"count", W.count}});
  return A;
}

/// The call of a request whose arguments the deployment refuses: the entry
/// never runs.
Call refused() {
  return [] { return Reply{400, nullptr}; };
}

/// The argument named \p Key, or null when it is absent.
const Json *arg(const Json &Args, const char *Key) {
  auto It = Args.find(Key);
  return It == Args.end() ? nullptr : &*It;
}

bool isStringArray(const Json &J) {
  return J.is_array() && std::all_of(J.begin(), J.end(), [](const Json &E) {
           return E.is_string();
         });
}

/// A string parameter of a GET: the query value as it is. Only strings are
/// taken from the scenario, so that no JSON text has to be reproduced here.
std::string queryString(const Json &J) {
  if (!J.is_string())
    throw std::runtime_error("give GET string arguments as JSON strings");
  return J.get<std::string>();
}

/// Decodes the arguments of one scenario line and returns the call itself.
/// Decoding happens before the call so that a broken scenario line is
/// reported as such, not mistaken for a 500.
Call decodeCall(const std::string &Route, const Json &Args) {
  if (Route == "POST /count") {
    const Json *Lines = arg(Args, "lines");
    if (!Lines || !isStringArray(*Lines))
      return refused();
    auto L = Lines->get<std::vector<std::string>>();
    return [=] { return Reply{200, encode(count(L))}; };
  }
  if (Route == "GET /words") {
    const Json *Line = arg(Args, "line");
    if (!Line)
      return refused();
    auto L = queryString(*Line);
    return [=] { return Reply{200, encode(words_of(L))}; };
  }
  if (Route == "GET /frequency") {
    const Json *Word = arg(Args, "word");
    if (!Word)
      return refused();
    auto W = queryString(*Word);
    return [=] { return Reply{200, frequency_of(W)}; };
  }
  if (Route == "GET /top") {
    std::optional<int> Count;
    if (const Json *N = arg(Args, "n"))
      Count = queryInt<int>(N);
    if (!Count)
      return refused();
    return [=] { return Reply{200, encode(top(*Count))}; };
  }
  if (Route == "GET /documents")
    return [] { return Reply{200, documents_counted()}; };
  throw std::runtime_error("no such route in the wordcount example: " + Route);
}

} // namespace

int main() { return runScenario(decodeCall); }
