//===- cleavegen.h - What every generated program shares -------*- C++ -*-===//
//
// Included by the programs test/gen/cleavegen.py writes (the harness passes
// -I test/gen to the monolith's compiler and to cleave build): the checksums
// every value goes through, and the monolith's driver loop. Every value of
// a generated program stays in [0, 0xffff]; mix folds one into a checksum.
// An exception that escapes an entry is answered 500, as the deployment
// answers it.
//
//===----------------------------------------------------------------------===//

#ifndef CLEAVE_TEST_GEN_CLEAVEGEN_H
#define CLEAVE_TEST_GEN_CLEAVEGEN_H

#include <exception>
#include <iostream>
#include <map>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

static inline long mix(long acc, long v) { return (acc * 31 + (v & 0xffff)) & 0xffffff; }
static inline long ck(long v) { return v & 0xffff; }
static inline long ck(int v) { return v & 0xffff; }
static inline long ck(bool v) { return v ? 1 : 2; }
static inline long ck(double v) { return static_cast<long>(v * 4) & 0xffff; }
static inline long ck(const std::string &s) {
  long h = static_cast<long>(s.size());
  for (char c : s)
    h = (h * 7 + static_cast<unsigned char>(c)) & 0xffff;
  return h;
}
static inline long ck(const char *s) { return ck(std::string(s)); }
static inline long ck(const std::exception &e) { return ck(e.what()); }
static inline long ck(const std::pair<long, long> &p) { return (p.first * 3 + p.second) & 0xffff; }
static inline long ck(const std::tuple<long, long, long> &t) {
  return (std::get<0>(t) * 5 + std::get<1>(t) * 3 + std::get<2>(t)) & 0xffff;
}
static inline long ck(const std::vector<long> &v) {
  long h = static_cast<long>(v.size());
  for (long e : v)
    h = (h * 3 + e) & 0xffff;
  return h;
}
static inline long ck(const std::set<long> &s) {
  long h = static_cast<long>(s.size()) + 11;
  for (long e : s)
    h = (h * 5 + e) & 0xffff;
  return h;
}
static inline long ck(const std::map<long, long> &m) {
  long h = static_cast<long>(m.size()) + 13;
  for (const auto &kv : m)
    h = (h * 7 + kv.first * 3 + kv.second) & 0xffff;
  return h;
}
static inline long ck(const std::map<std::string, long> &m) {
  long h = static_cast<long>(m.size()) + 17;
  for (const auto &kv : m)
    h = (h * 7 + ck(kv.first) * 3 + kv.second) & 0xffff;
  return h;
}

/// The monolith: reads calls ("fN A B", or "state 0 0" for GET /state) from
/// stdin and prints one {"status", "body"} line per call, as the deployment
/// answers over HTTP. \p Call runs entry NAME and returns its value; an
/// exception it lets escape is a 500 without a body (the harness compares
/// error answers by their status only).
template <class StateFn, class CallFn> int runCalls(StateFn State, CallFn Call) {
  std::string Name;
  long A = 0, B = 0;
  while (std::cin >> Name >> A >> B) {
    long Value = 0;
    if (Name != "state") {
      try {
        Value = Call(Name, A, B);
      } catch (...) {
        std::cout << "{\"status\": 500, \"body\": null}" << std::endl;
        continue;
      }
    }
    std::cout << "{\"status\": 200, \"body\": ";
    if (Name == "state") {
      const char *Sep = "{";
      for (const auto &KV : State()) {
        std::cout << Sep << "\"" << KV.first << "\": " << KV.second;
        Sep = ", ";
      }
      std::cout << (*Sep == '{' ? "{}" : "}");
    } else {
      std::cout << Value;
    }
    std::cout << "}" << std::endl;
  }
  return 0;
}

#endif // CLEAVE_TEST_GEN_CLEAVEGEN_H
